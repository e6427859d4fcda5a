/*
 * tests/fuzz/fuzz.h - what the libFuzzer harnesses share.
 *
 * The readers take paths, so each input is written to a memfd and handed
 * over as /proc/self/fd/N: no disk traffic, and pread() works as on a file.
 * The binary helpers repair the two checksums of a binary trace, so that
 * mutations reach the record decoder instead of stopping at "checksum
 * mismatch" (each harness also feeds the input unrepaired).
 */
#ifndef S2SIM_FUZZ_H
#define S2SIM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where harnesses put values they compute only to exercise the code. */
static volatile size_t fuzz_sink;

/* A path whose file holds exactly @data; slot 0..3 are independent files. */
static inline const char *fuzz_path(int slot, const uint8_t *data, size_t size)
{
	static int fd[4] = { -1, -1, -1, -1 };
	static char path[4][48];

	if (fd[slot] < 0) {
		fd[slot] = memfd_create("s2fuzz", 0);
		if (fd[slot] < 0)
			abort();
		snprintf(path[slot], sizeof(path[slot]), "/proc/self/fd/%d", fd[slot]);
	}
	if (ftruncate(fd[slot], 0) || pwrite(fd[slot], data, size, 0) != (ssize_t)size)
		abort();
	return path[slot];
}

/* Read every record until the end or the first error; the error is freed. */
static inline void fuzz_drain(struct s2_source *src, GError *err)
{
	struct s2_record r;

	while (src && s2_source_next(src, &r, &err) > 0)
		;
	s2_source_close(src);
	g_clear_error(&err);
}

/* The binary reader, plain (pread window) or streaming zstd, on exactly @data. */
static inline void fuzz_read_binary(const uint8_t *data, size_t size, bool zstd)
{
	const char *path = fuzz_path(0, data, size);
	GError *err = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		abort();
	fuzz_drain(s2_binary_source_open(path, f, zstd, &err), err);
}

static inline uint64_t fuzz_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return GUINT64_FROM_LE(v);
}

static inline void fuzz_put64(uint8_t *p, uint64_t v)
{
	v = GUINT64_TO_LE(v);
	memcpy(p, &v, 8);
}

/*
 * Recompute the records and header checksums of a plain binary trace in
 * place (traces/FORMAT.md, "Checksums"), where the header's offsets lie
 * inside the buffer; leave it alone otherwise.
 */
static inline void fuzz_fix_binary_sums(uint8_t *b, size_t size)
{
	uint64_t rec_off, nr_rec, ph_off, ph_len, nr_slots, sum;

	if (size < 80 || memcmp(b, S2_BINARY_MAGIC, 8))
		return;
	nr_slots = b[14] | b[15] << 8;
	rec_off = fuzz_get64(b + 32);
	nr_rec = fuzz_get64(b + 40);
	ph_off = fuzz_get64(b + 48);
	ph_len = fuzz_get64(b + 56);
	if (80 + nr_slots * 32 > size || rec_off > size || nr_rec > (size - rec_off) / 16 ||
	    ph_off > size || ph_len > size - ph_off)
		return;
	fuzz_put64(b + 64, s2_binary_checksum(S2_BINARY_SUM_INIT, b + rec_off, nr_rec * 16));
	fuzz_put64(b + 72, 0);
	sum = s2_binary_checksum(S2_BINARY_SUM_INIT, b, 80);
	sum = s2_binary_checksum(sum, b + 80, nr_slots * 32);
	sum = s2_binary_checksum(sum, b + ph_off, ph_len);
	fuzz_put64(b + 72, sum);
}

#endif
