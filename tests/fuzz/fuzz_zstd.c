/*
 * tests/fuzz/fuzz_zstd.c - the streaming reader of zstd-compressed binary
 * traces (traces/binary.c).  The input is taken as the plain bytes inside
 * the frame: its checksums are repaired and it is compressed here, so the
 * mutations land in the decoder's logic (parts out of order, cut short,
 * trailing data), not only in zstd's own frame checks.  An input that is
 * already a zstd frame is also read as it is.
 */
#include <zstd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *plain = g_memdup2(data, size);
	size_t cap = ZSTD_compressBound(size), len;
	uint8_t *z = g_malloc(cap);

	if (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd)
		fuzz_read_binary(data, size, true);
	fuzz_fix_binary_sums(plain, size);
	len = ZSTD_compress(z, cap, plain, size, 1);
	if (ZSTD_isError(len))
		abort();
	fuzz_read_binary(z, len, true);
	/* a frame cut short: the reader must say so, not hang or read past it */
	if (len > 1)
		fuzz_read_binary(z, len - 1 - size % (len - 1), true);
	g_free(z);
	g_free(plain);
	return 0;
}
