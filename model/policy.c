/*
 * model/policy.c - read a policy section from model/policies.ini.
 */
#include <string.h>

#include "policy.h"
#include "profile.h"

struct choice {
	const char *word;
	int value;
};

static const struct choice cmo_sites_whatif[] = {
	{ "abort", S2_CMO_AT_ABORT }, { "walker", S2_CMO_IN_WALKER },
	{ "prelock", S2_CMO_PRELOCK }, { NULL, 0 },
};
static const struct choice lock_modes[] = {
	{ "spin", S2_LOCK_SPIN }, { "rw-fastpath", S2_LOCK_RW_FASTPATH },
	{ "rw-read", S2_LOCK_RW_READ }, { NULL, 0 },
};
static const struct choice break_modes[] = {
	{ "locked", S2_BREAK_LOCKED }, { "cmpxchg", S2_BREAK_CMPXCHG }, { NULL, 0 },
};
static const struct choice relax_tlbis[] = {
	{ "broadcast", S2_RELAX_TLBI_BROADCAST }, { "local", S2_RELAX_TLBI_LOCAL }, { NULL, 0 },
};
static const struct choice icache_modes[] = {
	{ "by-va", S2_ICACHE_BY_VA }, { "iallu-above-max", S2_ICACHE_IALLU_ABOVE_MAX }, { NULL, 0 },
};
static const struct choice booleans[] = { { "false", 0 }, { "true", 1 }, { NULL, 0 } };

const char *s2_cmo_site_name(enum s2_cmo_site s) { return cmo_sites_whatif[s].word; }
const char *s2_lock_mode_name(enum s2_lock_mode m) { return lock_modes[m].word; }
const char *s2_break_mode_name(enum s2_break_mode m) { return break_modes[m].word; }
const char *s2_relax_tlbi_name(enum s2_relax_tlbi m) { return relax_tlbis[m].word; }
const char *s2_icache_mode_name(enum s2_icache_mode m) { return icache_modes[m].word; }

static GKeyFile *open_policies(const char **path, char **owned, GError **err)
{
	GKeyFile *kf = g_key_file_new();
	GError *kerr = NULL;

	*owned = NULL;
	if (!*path)
		*path = *owned = s2_data_path("model/policies.ini");
	if (!g_key_file_load_from_file(kf, *path, G_KEY_FILE_NONE, &kerr)) {
		g_set_error(err, S2_MODEL_ERROR, 0, "policies %s: %s", *path, kerr->message);
		g_error_free(kerr);
		g_key_file_free(kf);
		return NULL;
	}
	return kf;
}

static bool pick(GKeyFile *kf, const char *path, const char *name, const char *key,
		 const struct choice *choices, int *out, GError **err)
{
	GError *kerr = NULL;
	char *val = g_key_file_get_string(kf, name, key, &kerr);
	bool ok = false;

	if (!val) {
		/* a value that is not UTF-8 is there, but unreadable: not "missing" */
		g_set_error(err, S2_MODEL_ERROR, 0, "%s: [%s] %s: %s", path, name, key,
			    g_error_matches(kerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ?
			    "missing" : "not UTF-8 text");
		g_error_free(kerr);
		return false;
	}
	for (const struct choice *c = choices; c->word; c++) {
		if (!strcmp(val, c->word)) {
			*out = c->value;
			ok = true;
		}
	}
	if (!ok) {
		GString *known = g_string_new(NULL);

		for (const struct choice *c = choices; c->word; c++)
			g_string_append_printf(known, "%s%s", known->len ? ", " : "", c->word);
		g_set_error(err, S2_MODEL_ERROR, 0,
			    "%s: [%s] %s = %s is not modelled (known: %s)", path, name, key,
			    val, known->str);
		g_string_free(known, TRUE);
	}
	g_free(val);
	return ok;
}

struct s2_policy *s2_policy_load(const char *name, const char *path, GError **err)
{
	char *owned;
	GKeyFile *kf = open_policies(&path, &owned, err);
	struct s2_policy *p;
	int site = 0, lock = 0, brk = 0, relax = 0, icache = 0, range = 0, eager = 0;

	if (!kf)
		return NULL;
	if (!g_key_file_has_group(kf, name)) {
		g_set_error(err, S2_MODEL_ERROR, 0, "unknown policy '%s' (see --list-policies)", name);
		goto fail;
	}
	if (!pick(kf, path, name, "cmo_site", cmo_sites_whatif, &site, err) ||
	    !pick(kf, path, name, "lock", lock_modes, &lock, err) ||
	    !pick(kf, path, name, "break", break_modes, &brk, err) ||
	    !pick(kf, path, name, "relax_tlbi", relax_tlbis, &relax, err) ||
	    !pick(kf, path, name, "icache", icache_modes, &icache, err) ||
	    !pick(kf, path, name, "range_tlbi", booleans, &range, err) ||
	    !pick(kf, path, name, "eager_split", booleans, &eager, err))
		goto fail;
	if (brk == S2_BREAK_CMPXCHG && lock != S2_LOCK_RW_READ) {
		g_set_error(err, S2_MODEL_ERROR, 0,
			    "%s: [%s] break = cmpxchg needs lock = rw-read", path, name);
		goto fail;
	}
	p = g_new0(struct s2_policy, 1);
	p->name = g_strdup(name);
	p->kernel = g_key_file_get_string(kf, name, "kernel", NULL);
	p->source = g_key_file_get_string(kf, name, "source", NULL);
	p->cmo_site = site;
	p->lock = lock;
	p->brk = brk;
	p->relax_tlbi = relax;
	p->icache = icache;
	p->range_tlbi = range;
	p->eager_split = eager;
	g_key_file_free(kf);
	g_free(owned);
	return p;
fail:
	g_key_file_free(kf);
	g_free(owned);
	return NULL;
}

void s2_policy_free(struct s2_policy *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->kernel);
	g_free(p->source);
	g_free(p);
}

char **s2_policy_names(const char *path, GError **err)
{
	char *owned;
	GKeyFile *kf = open_policies(&path, &owned, err);
	char **names;

	if (!kf)
		return NULL;
	names = g_key_file_get_groups(kf, NULL);
	g_key_file_free(kf);
	g_free(owned);
	return names;
}
