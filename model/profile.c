/*
 * model/profile.c - load a cost profile and derive composite costs from it.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

G_DEFINE_QUARK(s2-model-error-quark, s2_model_error)

enum field_type { F_U64, F_BOOL, F_DOUBLE, F_ICACHE };

struct field {
	const char *group;
	const char *key;
	enum field_type type;
	size_t offset;
};

#define U64(g, k)	{ g, #k, F_U64, offsetof(struct s2_profile, k) }
#define BOOL(g, k)	{ g, #k, F_BOOL, offsetof(struct s2_profile, k) }

static const struct field fields[] = {
	U64("machine", freq_mhz),
	BOOL("machine", fwb),
	BOOL("machine", dic),
	{ "machine", "icache", F_ICACHE, offsetof(struct s2_profile, icache) },
	U64("machine", dline),
	U64("machine", iline),
	U64("machine", llc_bytes),
	BOOL("machine", tlbirange),
	U64("costs", exit_entry),
	U64("costs", exit_to_user),
	U64("costs", fault_prepare),
	U64("costs", walk_level),
	U64("costs", pt_page_alloc),
	U64("costs", dc_civac_cold),
	U64("costs", dc_civac_hot),
	U64("costs", dsb_sy),
	U64("costs", ic_ivau_line),
	U64("costs", ic_iallu_is),
	U64("costs", tlbi_bcast_sync),
	U64("costs", dvm_sync_service),
	U64("costs", dvm_op_service),
	U64("costs", tlbi_local_nsh),
	U64("costs", wp_per_pte),
	U64("costs", teardown_per_pte),
	U64("costs", lock_acquire),
	U64("costs", spin_handoff),
	{ "costs", "zero_gbps", F_DOUBLE, offsetof(struct s2_profile, zero_gbps) },
	U64("costs", flush_chunk_bytes),
};

char *s2_data_path(const char *relative)
{
	const char *root = g_getenv("S2SIM_SOURCE_DIR");

	return g_build_filename(root && *root ? root : S2SIM_SOURCE_DIR, relative, NULL);
}

/* GKeyFile forgets line numbers; find "key =" under [group] for the message. */
static int key_line(const char *path, const char *group, const char *key)
{
	char *text = NULL, **lines;
	bool in_group = false;
	int found = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] && !found; i++) {
		char *l = g_strstrip(lines[i]);

		if (*l == '[') {
			in_group = !strncmp(l + 1, group, strlen(group)) && l[1 + strlen(group)] == ']';
		} else if (in_group && g_str_has_prefix(l, key)) {
			const char *rest = l + strlen(key);

			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (*rest == '=')
				found = i + 1;
		}
	}
	g_strfreev(lines);
	g_free(text);
	return found;
}

static bool field_error(const struct s2_profile *p, const struct field *f,
			GError **err, const char *what)
{
	int line = key_line(p->path, f->group, f->key);

	if (line)
		g_set_error(err, S2_MODEL_ERROR, 0, "%s:%d: [%s] %s: %s", p->path, line,
			    f->group, f->key, what);
	else
		g_set_error(err, S2_MODEL_ERROR, 0, "%s: [%s] %s: %s", p->path,
			    f->group, f->key, what);
	return false;
}

static bool load_field(struct s2_profile *p, GKeyFile *kf, const struct field *f,
		       GError **err)
{
	char *raw = g_key_file_get_value(kf, f->group, f->key, NULL);
	char *val, *end;
	void *dst = (char *)p + f->offset;
	bool ok = true;

	if (!raw)
		return field_error(p, f, err, "missing");
	val = g_strstrip(raw);
	errno = 0;
	switch (f->type) {
	case F_U64: {
		unsigned long long v = strtoull(val, &end, 10);

		if (!*val || *val == '-' || *end || errno)
			ok = field_error(p, f, err, "expected a non-negative integer");
		else
			*(uint64_t *)dst = v;
		break;
	}
	case F_DOUBLE: {
		double v = g_ascii_strtod(val, &end);

		if (!*val || *end || errno || !isfinite(v) || v <= 0)
			ok = field_error(p, f, err, "expected a positive number");
		else
			*(double *)dst = v;
		break;
	}
	case F_BOOL:
		if (!strcmp(val, "true"))
			*(bool *)dst = true;
		else if (!strcmp(val, "false"))
			*(bool *)dst = false;
		else
			ok = field_error(p, f, err, "expected true or false");
		break;
	case F_ICACHE:
		if (!strcmp(val, "pipt"))
			*(enum s2_icache_type *)dst = S2_ICACHE_PIPT;
		else if (!strcmp(val, "vipt"))
			*(enum s2_icache_type *)dst = S2_ICACHE_VIPT;
		else
			ok = field_error(p, f, err, "expected pipt or vipt");
		break;
	}
	g_free(raw);
	return ok;
}

static const struct field *find_field(const char *group, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (!strcmp(fields[i].group, group) && !strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static bool reject_unknown_keys(struct s2_profile *p, GKeyFile *kf, GError **err)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	bool ok = true;

	for (int g = 0; groups[g] && ok; g++) {
		char **keys;

		if (strcmp(groups[g], "machine") && strcmp(groups[g], "costs")) {
			g_set_error(err, S2_MODEL_ERROR, 0, "%s: unknown group [%s]",
				    p->path, groups[g]);
			ok = false;
			break;
		}
		keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (int k = 0; keys[k] && ok; k++) {
			if (!find_field(groups[g], keys[k])) {
				struct field f = { groups[g], keys[k], F_U64, 0 };

				ok = field_error(p, &f, err, "unknown key");
			}
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	return ok;
}

static bool check_sane(struct s2_profile *p, GError **err)
{
	if (!p->freq_mhz)
		return field_error(p, find_field("machine", "freq_mhz"), err, "must be > 0");
	if (!p->dline || (p->dline & (p->dline - 1)))
		return field_error(p, find_field("machine", "dline"), err, "must be a power of two");
	if (!p->iline || (p->iline & (p->iline - 1)))
		return field_error(p, find_field("machine", "iline"), err, "must be a power of two");
	if (p->flush_chunk_bytes < 4096 || p->flush_chunk_bytes & 4095)
		return field_error(p, find_field("costs", "flush_chunk_bytes"), err,
				   "must be a non-zero multiple of 4096");
	return true;
}

struct s2_profile *s2_profile_load(const char *name_or_path, GError **err)
{
	struct s2_profile *p = g_new0(struct s2_profile, 1);
	GKeyFile *kf = g_key_file_new();
	GError *kerr = NULL;
	bool ok = true;

	if (strchr(name_or_path, '/') || g_str_has_suffix(name_or_path, ".ini")) {
		p->path = g_strdup(name_or_path);
	} else {
		char *rel = g_strdup_printf("model/profiles/%s.ini", name_or_path);

		p->path = s2_data_path(rel);
		g_free(rel);
	}
	if (!g_key_file_load_from_file(kf, p->path, G_KEY_FILE_NONE, &kerr)) {
		g_set_error(err, S2_MODEL_ERROR, 0, "profile %s: %s", p->path, kerr->message);
		g_error_free(kerr);
		ok = false;
	}
	ok = ok && reject_unknown_keys(p, kf, err);
	for (size_t i = 0; ok && i < G_N_ELEMENTS(fields); i++)
		ok = load_field(p, kf, &fields[i], err);
	ok = ok && check_sane(p, err);
	g_key_file_free(kf);
	if (!ok) {
		s2_profile_free(p);
		return NULL;
	}
	p->name = g_path_get_basename(p->path);
	if (g_str_has_suffix(p->name, ".ini"))
		p->name[strlen(p->name) - 4] = '\0';
	return p;
}

void s2_profile_free(struct s2_profile *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->path);
	g_free(p);
}

void s2_profile_foreach(const struct s2_profile *p, s2_profile_field_fn fn, void *opaque)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		const struct field *f = &fields[i];
		const void *src = (const char *)p + f->offset;
		char buf[64];

		switch (f->type) {
		case F_U64:
			g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, *(const uint64_t *)src);
			break;
		case F_DOUBLE:
			g_ascii_dtostr(buf, sizeof(buf), *(const double *)src);
			break;
		case F_BOOL:
			g_strlcpy(buf, *(const bool *)src ? "true" : "false", sizeof(buf));
			break;
		case F_ICACHE:
			g_strlcpy(buf, *(const enum s2_icache_type *)src == S2_ICACHE_VIPT ?
				  "vipt" : "pipt", sizeof(buf));
			break;
		}
		fn(f->group, f->key, buf, opaque);
	}
}

/* clear_page (arch/arm64/lib/clear_page.S) at the profile's bandwidth. */
uint64_t s2_profile_zero_cycles(const struct s2_profile *p, uint64_t bytes)
{
	return (uint64_t)llround((double)bytes * (double)p->freq_mhz / 1000.0 / p->zero_gbps);
}

/*
 * dcache_clean_inval_poc over @bytes: one DC CIVAC per line, then one DSB.
 * Lines the host has just written (@hot_bytes, capped by the LLC) are still
 * cached; the rest were cleaned before or never cached (calibration.md §1).
 */
uint64_t s2_profile_dclean_cycles(const struct s2_profile *p, uint64_t bytes, uint64_t hot_bytes)
{
	uint64_t hot = MIN(MIN(hot_bytes, bytes), p->llc_bytes);

	return hot / p->dline * p->dc_civac_hot +
	       (bytes - hot) / p->dline * p->dc_civac_cold + p->dsb_sy;
}
