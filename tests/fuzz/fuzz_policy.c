/*
 * tests/fuzz/fuzz_policy.c - the policy loader (model/policy.c): list the
 * sections of a policies file as --list-policies does, then load each, and
 * one that is not there.
 */
#include "fuzz.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(0, data, size);
	GError *err = NULL;
	char **names = s2_policy_names(path, &err);

	g_clear_error(&err);
	for (int i = 0; names && names[i]; i++) {
		struct s2_policy *p = s2_policy_load(names[i], path, &err);

		g_clear_error(&err);
		if (p)	/* the words --json and --list-policies print */
			fuzz_sink += strlen(s2_cmo_site_name(p->cmo_site)) + strlen(s2_lock_mode_name(p->lock)) +
			       strlen(s2_break_mode_name(p->brk)) +
			       strlen(s2_relax_tlbi_name(p->relax_tlbi)) +
			       strlen(s2_icache_mode_name(p->icache));
		s2_policy_free(p);
	}
	g_strfreev(names);
	s2_policy_free(s2_policy_load("no-such-policy", path, &err));
	g_clear_error(&err);
	return 0;
}
