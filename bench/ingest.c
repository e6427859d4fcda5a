/*
 * bench/ingest.c - trace ingest alone: open each trace and pull every record
 * through s2_source_next(), nothing else.  Prints, per file and round, the
 * encoding, bytes, records, seconds (open included: a plain binary file is
 * checksummed whole when it is opened), MB/s (10^6 bytes of the file) and
 * records/s, as CSV.  Never fails on speed.
 *
 *   build/bench/ingest [--rounds N] TRACE...
 *
 * Run it on files already in the page cache (the first read of a cold file
 * measures the disk): bench/perf reads each file once before timing it.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

static int ingest(const char *path, int round)
{
	struct s2_record rec;
	GError *err = NULL;
	GStatBuf st;
	uint64_t n = 0, sum = 0;
	gint64 t0, t1, t2;
	struct s2_source *src;
	double secs;
	int r;

	if (g_stat(path, &st)) {
		fprintf(stderr, "ingest: %s: cannot stat\n", path);
		return 2;
	}
	t0 = g_get_monotonic_time();
	src = s2_source_open(path, &err);
	if (!src) {
		fprintf(stderr, "ingest: %s\n", err->message);
		g_error_free(err);
		return 2;
	}
	t1 = g_get_monotonic_time();
	while ((r = s2_source_next(src, &rec, &err)) > 0) {
		n++;
		sum += rec.ipa ^ rec.delta;	/* use the record, as a consumer would */
	}
	t2 = g_get_monotonic_time();
	if (r < 0) {
		fprintf(stderr, "ingest: %s\n", err->message);
		g_error_free(err);
		s2_source_close(src);
		return 2;
	}
	secs = (t2 - t0) / 1e6;
	printf("%s,%d,%s,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%.3f,%.3f,%.1f,%.0f,%"
	       G_GINT64_MODIFIER "x\n", path, round, src->encoding, (guint64)st.st_size, n,
	       (t1 - t0) / 1e6, secs, st.st_size / secs / 1e6, n / secs, (gint64)(sum & 0xffff));
	s2_source_close(src);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 1, first = 1;

	if (argc > 2 && !strcmp(argv[1], "--rounds")) {
		rounds = atoi(argv[2]);
		first = 3;
	}
	if (first >= argc || rounds < 1) {
		fprintf(stderr, "usage: ingest [--rounds N] TRACE...\n");
		return 2;
	}
	printf("file,round,encoding,bytes,records,open_s,seconds,mb_per_s,records_per_s,check\n");
	for (int round = 1; round <= rounds; round++)
		for (int i = first; i < argc; i++)
			if (ingest(argv[i], round))
				return 2;
	return 0;
}
