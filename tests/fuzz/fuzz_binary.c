/*
 * tests/fuzz/fuzz_binary.c - the plain binary trace reader (traces/binary.c,
 * through mmap) on the input as it is and with its checksums repaired.
 */
#include "fuzz.h"

static void read_plain(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(0, data, size);
	GError *err = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		abort();
	fuzz_drain(s2_binary_source_open(path, f, false, &err), err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed = g_memdup2(data, size);

	read_plain(data, size);
	fuzz_fix_binary_sums(fixed, size);
	if (size && memcmp(fixed, data, size))
		read_plain(fixed, size);
	g_free(fixed);
	return 0;
}
