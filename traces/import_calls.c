/*
 * traces/import_calls.c - count the function-tracer lines of a recorded
 * boot: the tracepoints do not show maps, permission relaxes, cache
 * maintenance or TLBIs, but ftrace's `function` tracer, filtered to the
 * functions below (set_ftrace_filter), does.  Nothing here becomes a
 * record: the counts are what the simulator's replay is compared with
 * (trace-conv --counts, bench/validate --boot).
 *
 * Each function is one that v6.1 (Debian's linux-source-6.1) compiles out
 * of line in kernel text built with the ftrace flags:
 *  - kvm_pgtable_stage2_map, kvm_pgtable_stage2_relax_perms: exported by
 *    arch/arm64/kvm/hyp/pgtable.c, which arch/arm64/kvm/hyp/Makefile builds
 *    for the host with the kernel's flags (only the nvhe/ copy drops
 *    CC_FLAGS_FTRACE).  kvm_pgtable_stage2_map has three callers in mmu.c:
 *    user_mem_abort (static, called once: usually inlined, so the parent
 *    reads kvm_handle_guest_abort), kvm_set_spte_gfn (change_pte) and
 *    kvm_phys_addr_ioremap (the VMM's device mappings at set-up).
 *  - clean_dcache_guest_page, invalidate_icache_guest_page: static in
 *    mmu.c, but their address is taken by kvm_s2_mm_ops and nothing calls
 *    them directly, so they exist out of line; the walker calls them
 *    through the pointer, so the parent is the walker callback:
 *    stage2_map_walker (or its try_leaf/walk_leaf helpers when not
 *    inlined), stage2_flush_walker (stage2_flush_vm), stage2_unmap_walker,
 *    stage2_attr_walker (relax).  The fault path calls the D-cache helper
 *    even with FWB (it returns at once inside), the flush and unmap walkers
 *    do not.
 *  - kvm_toggle_cache, kvm_set_way_flush (called by access_dcsw for every
 *    trapped set/way op without FWB, also those that do not flush),
 *    kvm_unmap_gfn_range, kvm_set_spte_gfn: global in mmu.c.
 *  - __kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid: only on a VHE host,
 *    where kvm_call_hyp() calls arch/arm64/kvm/hyp/vhe/tlb.c directly and
 *    vhe/Makefile keeps the ftrace flags; under nVHE they run at EL2
 *    (hyp/nvhe, built without CC_FLAGS_FTRACE) and cannot be traced.  The
 *    parent tells the cause: kvm_pgtable_stage2_relax_perms (relax),
 *    stage2_unmap_walker (unmap), the map walker (break-before-make); when
 *    the compiler keeps stage2_put_pte out of line the parent is
 *    stage2_put_pte and the cause is lost (counted apart).
 * Not traceable this way: user_mem_abort and stage2_flush_vm (static,
 * usually inlined), the CMO byte counts (a kprobe with the size argument
 * gives them: s2_import_count_probe).
 */
#include <stdlib.h>
#include <string.h>

#include "import.h"

const char *const s2_import_call_names[S2_CALL_NR] = {
	[S2_CALL_MAP_FAULT] = "map_fault",
	[S2_CALL_MAP_CHANGE_PTE] = "map_change_pte",
	[S2_CALL_MAP_IOREMAP] = "map_ioremap",
	[S2_CALL_RELAX] = "relax_perms",
	[S2_CALL_DCLEAN_MAP] = "dclean_map",
	[S2_CALL_DCLEAN_VMFLUSH] = "dclean_vmflush",
	[S2_CALL_DCLEAN_UNMAP] = "dclean_unmap",
	[S2_CALL_IINVAL] = "iinval",
	[S2_CALL_TOGGLE_CACHE] = "toggle_cache",
	[S2_CALL_SET_WAY] = "set_way",
	[S2_CALL_UNMAP_GFN] = "unmap_gfn_range",
	[S2_CALL_SET_SPTE_GFN] = "set_spte_gfn",
	[S2_CALL_TLBI_RELAX] = "tlbi_relax_perms",
	[S2_CALL_TLBI_BBM_LEAF] = "tlbi_bbm_leaf",
	[S2_CALL_TLBI_UNMAP] = "tlbi_unmap",
	[S2_CALL_TLBI_IPA_OTHER] = "tlbi_ipa_unattributed",
	[S2_CALL_TLBI_BBM_TABLE] = "tlbi_bbm_table_vmid",
	[S2_CALL_TLBI_REMOTE] = "tlbi_remote_vmid",
	[S2_CALL_TLBI_VMID_OTHER] = "tlbi_vmid_unattributed",
};

/*
 * The first rule whose function and parent match counts the line; a NULL
 * parent matches any.  A parent is matched as a prefix, so "stage2_map_walk"
 * covers stage2_map_walker and the helpers the compiler may keep apart.
 */
static const struct call_rule {
	const char *func, *parent;
	enum s2_import_call count;
} rules[] = {
	{ "kvm_pgtable_stage2_map", "kvm_set_spte_gfn", S2_CALL_MAP_CHANGE_PTE },
	{ "kvm_pgtable_stage2_map", "kvm_phys_addr_ioremap", S2_CALL_MAP_IOREMAP },
	{ "kvm_pgtable_stage2_map", NULL, S2_CALL_MAP_FAULT },
	{ "kvm_pgtable_stage2_relax_perms", NULL, S2_CALL_RELAX },
	{ "clean_dcache_guest_page", "stage2_flush_walker", S2_CALL_DCLEAN_VMFLUSH },
	{ "clean_dcache_guest_page", "stage2_unmap_walker", S2_CALL_DCLEAN_UNMAP },
	{ "clean_dcache_guest_page", NULL, S2_CALL_DCLEAN_MAP },
	{ "invalidate_icache_guest_page", NULL, S2_CALL_IINVAL },
	{ "kvm_toggle_cache", NULL, S2_CALL_TOGGLE_CACHE },
	{ "kvm_set_way_flush", NULL, S2_CALL_SET_WAY },
	{ "kvm_unmap_gfn_range", NULL, S2_CALL_UNMAP_GFN },
	{ "kvm_set_spte_gfn", NULL, S2_CALL_SET_SPTE_GFN },
	{ "__kvm_tlb_flush_vmid_ipa", "kvm_pgtable_stage2_relax_perms", S2_CALL_TLBI_RELAX },
	{ "__kvm_tlb_flush_vmid_ipa", "stage2_unmap_walker", S2_CALL_TLBI_UNMAP },
	{ "__kvm_tlb_flush_vmid_ipa", "stage2_map_walk", S2_CALL_TLBI_BBM_LEAF },
	{ "__kvm_tlb_flush_vmid_ipa", NULL, S2_CALL_TLBI_IPA_OTHER },
	{ "__kvm_tlb_flush_vmid", "stage2_map_walk", S2_CALL_TLBI_BBM_TABLE },
	{ "__kvm_tlb_flush_vmid", "kvm_flush_remote_tlbs", S2_CALL_TLBI_REMOTE },
	{ "__kvm_tlb_flush_vmid", NULL, S2_CALL_TLBI_VMID_OTHER },
};

/* A symbol without the compiler's clone suffix (".isra.0", ".constprop.0", ".part.0"). */
static bool same_symbol(const char *sym, size_t len, const char *name)
{
	const char *dot = memchr(sym, '.', len);

	if (dot)
		len = dot - sym;
	return strlen(name) == len && !memcmp(sym, name, len);
}

static bool has_prefix(const char *sym, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(sym, prefix, n);
}

static void count(const char *func, size_t flen, const char *parent, size_t plen,
		  struct s2_import_stats *st)
{
	st->function_lines++;
	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++) {
		if (!same_symbol(func, flen, rules[i].func))
			continue;
		if (!rules[i].parent || has_prefix(parent, plen, rules[i].parent)) {
			st->calls[rules[i].count]++;
			return;
		}
	}
}

/* The patterns are constants: each format's is compiled once, on first use. */
static GRegex *call_regex(const struct s2_import_format *fmt)
{
	static struct { const struct s2_import_format *fmt; GRegex *re; } cache[8];
	static GMutex lock;
	GRegex *re = NULL;
	size_t i;

	g_mutex_lock(&lock);
	for (i = 0; i < G_N_ELEMENTS(cache) && cache[i].fmt && cache[i].fmt != fmt; i++)
		;
	g_assert(i < G_N_ELEMENTS(cache));
	if (!cache[i].fmt) {
		GError *err = NULL;

		cache[i].fmt = fmt;
		cache[i].re = g_regex_new(fmt->call, G_REGEX_OPTIMIZE | G_REGEX_RAW, 0, &err);
		g_assert_no_error(err);
	}
	re = cache[i].re;
	g_mutex_unlock(&lock);
	return re;
}

bool s2_import_count_call(const struct s2_import_format *fmt, const char *line,
			  struct s2_import_stats *st)
{
	GMatchInfo *mi;
	int f0, f1, p0, p1;
	bool match;

	/* every function line has "<-"; an event line rarely does */
	if (!fmt->call || !strstr(line, "<-"))
		return false;
	match = g_regex_match(call_regex(fmt), line, 0, &mi);
	if (match && st) {
		g_match_info_fetch_named_pos(mi, "func", &f0, &f1);
		g_match_info_fetch_named_pos(mi, "parent", &p0, &p1);
		count(line + f0, f1 - f0, line + p0, p1 - p0, st);
	}
	g_match_info_free(mi);
	return match;
}

/*
 * A kprobe event (kernel/trace/trace_kprobe.c prints "NAME: (FUNC+0xOFF/0xLEN)
 * ARG=VALUE ..."), set with
 *   p:s2/dclean clean_dcache_guest_page size=%x1:u64
 *   p:s2/iinval invalidate_icache_guest_page size=%x1:u64
 * whatever the probe's name: the size argument (x1, the second argument on
 * arm64) is the bytes the helper cleans or invalidates.
 */
bool s2_import_count_probe(const char *fields, struct s2_import_stats *st)
{
	const char *end, *size;
	uint64_t *bytes;

	if (fields[0] != '(' || !(end = strpbrk(fields, "+)")))
		return false;
	if (same_symbol(fields + 1, end - fields - 1, "clean_dcache_guest_page"))
		bytes = &st->dclean_bytes;
	else if (same_symbol(fields + 1, end - fields - 1, "invalidate_icache_guest_page"))
		bytes = &st->iinval_bytes;
	else
		return false;
	st->probe_events++;
	size = strstr(end, " size=");
	if (size)
		*bytes += strtoull(size + 6, NULL, 0);
	return true;
}
