/*
 * tests/fuzz/fuzz_profile.c - the cost-profile loader (model/profile.c,
 * s2_profile_load) on any bytes; an accepted profile also has its derived
 * costs computed and its fields listed, as sim does for --json.
 */
#include "fuzz.h"
#include "profile.h"

static void field(const char *group, const char *key, const char *value, void *opaque)
{
	fuzz_sink += strlen(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *err = NULL;
	struct s2_profile *p = s2_profile_load(fuzz_path(0, data, size), &err);

	g_clear_error(&err);
	if (!p)
		return 0;
	s2_profile_foreach(p, field, NULL);
	fuzz_sink += s2_profile_zero_cycles(p, 1ULL << 30);
	fuzz_sink += s2_profile_dclean_cycles(p, 2ULL << 20, 4096);
	s2_profile_free(p);
	return 0;
}
