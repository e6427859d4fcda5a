/*
 * tests/harness.h - run a tiny trace written inline through the whole
 * simulator, against kunpeng920 with chosen profile lines replaced.
 */
#ifndef S2SIM_TEST_HARNESS_H
#define S2SIM_TEST_HARNESS_H

#include "sim.h"

#define MB2	(2ULL << 20)

#define HEADER(vcpus, slot) \
	"s2sim-trace 1\nunit cycles\nvcpus " #vcpus "\nmemslot 0 gpa=0x40000000 size=1G " \
	slot "\nend-header\n"

struct run {
	struct s2_profile *prof;
	struct s2_policy *pol;
	struct s2_sim *sim;
	const struct s2_counters *c;
};

char *write_tmp(const char *text);
/* kunpeng920 with some "key = value" lines replaced, e.g. "fwb = true". */
struct s2_profile *profile_with(const char *const *edits);
void run_trace(struct run *r, const char *policy, const char *const *edits, const char *trace);
void run_free(struct run *r);

#endif
