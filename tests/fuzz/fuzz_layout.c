/*
 * tests/fuzz/fuzz_layout.c - the layout loader of trace-conv --layout
 * (s2_layout_load, traces/text.c): text header lines without the magic.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s2_trace_header h;
	GError *err = NULL;

	s2_trace_header_init(&h);
	if (s2_layout_load(fuzz_path(0, data, size), &h, &err))
		s2_trace_header_clear(&h);
	g_clear_error(&err);
	return 0;
}
