/*
 * tests/fuzz/fuzz_text.c - the text trace reader (traces/text.c) on any
 * bytes, then, for a trace it accepts that s2_source_open() also takes for
 * text (it refuses control bytes among the first 16, as a damaged binary
 * file), trace-info's analysis of it (traces/info.c), which keeps per-vCPU
 * and per-block state and must accept it too.
 */
#include "fuzz.h"
#include "info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(0, data, size);
	struct s2_trace_info info;
	struct s2_record r;
	GError *err = NULL;
	struct s2_source *src;
	FILE *f = fopen(path, "r");
	int ret = -1;

	if (!f)
		abort();
	src = s2_text_source_open(path, f, &err);
	while (src && (ret = s2_source_next(src, &r, &err)) > 0)
		;
	s2_source_close(src);
	g_clear_error(&err);
	if (ret)
		return 0;
	src = s2_source_open(path, &err);
	g_clear_error(&err);
	if (src && !strcmp(src->encoding, "text")) {
		if (!s2_trace_info_compute(path, 1000, &info, &err)) {
			fprintf(stderr, "accepted by the reader, refused by trace-info: %s\n",
				err->message);
			abort();
		}
		s2_trace_info_clear(&info);
	}
	s2_source_close(src);
	return 0;
}
