/*
 * tests/fuzz/fuzz_binary.c - the plain binary trace reader (traces/binary.c,
 * through its pread window) on the input as it is and with its checksums repaired.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed = g_memdup2(data, size);

	fuzz_read_binary(data, size, false);
	fuzz_fix_binary_sums(fixed, size);
	if (size && memcmp(fixed, data, size))
		fuzz_read_binary(fixed, size, false);
	g_free(fixed);
	return 0;
}
