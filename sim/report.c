/*
 * sim/report.c - what a run prints: a summary a reviewer can paste, and
 * the same numbers with the whole resolved configuration as JSON.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "report.h"

static double cycles_to_ms(const struct s2_sim *sim, uint64_t cycles)
{
	return (double)cycles / (double)sim->prof->freq_mhz / 1000.0;
}

static char *human_bytes(uint64_t b)
{
	return g_format_size_full(b, G_FORMAT_SIZE_IEC_UNITS);
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void print_costs(FILE *out, const struct s2_counters *c)
{
	uint64_t total = sum(c->cost, S2_COST_NR);

	fprintf(out, "where fault cycles go:");
	for (int k = 0; k < S2_COST_NR; k++)
		fprintf(out, " %s %.1f%%", s2_cost_kind_name(k),
			total ? 100.0 * c->cost[k] / total : 0.0);
	fprintf(out, "\n");
}

static void print_slots(FILE *out, const struct s2_trace_header *h)
{
	for (uint32_t i = 0; i < h->nr_slots; i++) {
		const struct s2_memslot *s = &h->slots[i];
		char *size = human_bytes(s->size);

		fprintf(out, "  memslot %u: gpa 0x%" G_GINT64_MODIFIER "x, %s %s%s%s\n", s->id,
			s->gpa, size, s2_backing_name(s->backing),
			s->populated ? ", resident" : ", not yet touched",
			s->readonly ? ", read-only" : "");
		g_free(size);
	}
}

static void print_vcpus(FILE *out, const struct s2_sim *sim)
{
	fprintf(out, "per vCPU (cycles):   guest       in-fault    barrier     finished    faults\n");
	for (uint32_t i = 0; i < sim->nr_vcpus; i++) {
		const struct s2_vcpu *v = &sim->vcpus[i];

		fprintf(out, "  vcpu %-4u %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT
			" %11" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT "\n",
			i, v->guest_cycles, s2_vm_vcpu_fault_cycles(sim->vm, i), v->barrier_cycles,
			v->finished, s2_vm_vcpu_faults(sim->vm, i));
	}
}

static void print_phases(FILE *out, const struct s2_sim *sim)
{
	if (!sim->phases->len)
		return;
	fprintf(out, "phases:\n");
	for (guint i = 0; i < sim->phases->len; i++) {
		const struct s2_phase *ph = &g_array_index(sim->phases, struct s2_phase, i);
		uint64_t faults = sum(ph->at_end.faults, S2_FAULT_KIND_NR) -
				  sum(ph->at_start.faults, S2_FAULT_KIND_NR);
		char *bytes = human_bytes(ph->at_end.dclean_bytes - ph->at_start.dclean_bytes);

		fprintf(out, "  %-16s %12.3f ms  %10" G_GUINT64_FORMAT " faults  %s cleaned\n",
			ph->name, cycles_to_ms(sim, ph->end - ph->start), faults, bytes);
		g_free(bytes);
	}
}

/* What the guest and the host added (kernel-fault-path.md §8-§9), when they did. */
static void print_boot(FILE *out, const struct s2_counters *c)
{
	uint64_t all = c->dclean_bytes + c->vmflush_dclean_bytes + c->unmap_dclean_bytes;
	uint64_t notifier = sum(c->notifier_unmaps, S2_UNMAP_CAUSE_NR);
	char *vmf = human_bytes(c->vmflush_dclean_bytes), *unm = human_bytes(c->unmap_dclean_bytes);

	if (c->vmreg_trapped + c->vmreg_untrapped + c->setway_trapped + c->resets)
		fprintf(out, "guest: %" G_GUINT64_FORMAT " trapped VM-register writes (%" G_GUINT64_FORMAT
			" untrapped), %" G_GUINT64_FORMAT " set/way traps, %" G_GUINT64_FORMAT " resets\n",
			c->vmreg_trapped, c->vmreg_untrapped, c->setway_trapped, c->resets);
	if (c->vmflushes)
		fprintf(out, "whole-VM flushes (stage2_flush_vm): %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
			" cache toggles, %" G_GUINT64_FORMAT " set/way), %" G_GUINT64_FORMAT " cleans, %s = "
			"%.1f%% of all bytes cleaned; mmu_lock held %" G_GUINT64_FORMAT " cycles, dropped %"
			G_GUINT64_FORMAT " times\n", c->vmflushes, c->vmflush_by_toggle,
			c->vmflush_by_setway, c->vmflush_dclean_calls, vmf,
			all ? 100.0 * c->vmflush_dclean_bytes / all : 0.0, c->vmflush_lock_cycles,
			c->vmflush_lock_drops);
	if (notifier || c->change_pte_maps || c->unmap_dclean_calls)
		fprintf(out, "MMU notifiers: %" G_GUINT64_FORMAT " unmaps (%" G_GUINT64_FORMAT
			" copy-on-write), %" G_GUINT64_FORMAT " change_pte maps (%" G_GUINT64_FORMAT
			" skipped); unmap walker cleaned %s in %" G_GUINT64_FORMAT " calls\n", notifier,
			c->notifier_unmaps[S2_UNMAP_COW], c->change_pte_maps, c->change_pte_skipped, unm,
			c->unmap_dclean_calls);
	g_free(vmf);
	g_free(unm);
}

void s2_report_summary(FILE *out, const struct s2_sim *sim, const char *trace_path)
{
	const struct s2_counters *c = s2_vm_counters(sim->vm);
	const struct s2_lock_hist *lw = &c->lock_wait;
	char *cleaned = human_bytes(c->dclean_bytes);
	char *abort_site = human_bytes(c->dclean_abort_site_bytes);
	char *iinval = human_bytes(c->iinval_bytes);
	char *zeroed = human_bytes(c->zero_bytes);

	fprintf(out, "s2sim: policy %s (%s), profile %s (%" G_GUINT64_FORMAT " MHz, FWB %s, DIC %s)\n",
		sim->pol->name, sim->pol->kernel ? sim->pol->kernel : "?", sim->prof->name,
		sim->prof->freq_mhz, sim->prof->fwb ? "yes" : "no", sim->prof->dic ? "yes" : "no");
	fprintf(out, "trace: %s: %u vCPUs, %" G_GUINT64_FORMAT " records, %u-bit IPA\n",
		trace_path, sim->nr_vcpus, sim->records, sim->src->hdr.ipa_bits);
	print_slots(out, &sim->src->hdr);
	fprintf(out, "makespan: %" G_GUINT64_FORMAT " cycles = %.3f ms\n\n", sim->makespan,
		cycles_to_ms(sim, sim->makespan));
	fprintf(out, "faults: %" G_GUINT64_FORMAT " (translation %" G_GUINT64_FORMAT
		", permission %" G_GUINT64_FORMAT ", mmio %" G_GUINT64_FORMAT "); refaults %"
		G_GUINT64_FORMAT "; taken in a break-before-make window %" G_GUINT64_FORMAT "\n",
		sum(c->faults, S2_FAULT_KIND_NR), c->faults[S2_FAULT_TRANSLATION],
		c->faults[S2_FAULT_PERMISSION], c->faults[S2_FAULT_MMIO], c->refaults,
		c->bbm_window_faults);
	fprintf(out, "outcomes: mapped %" G_GUINT64_FORMAT ", relaxed %" G_GUINT64_FORMAT
		", relax no-op %" G_GUINT64_FORMAT ", -EAGAIN %" G_GUINT64_FORMAT,
		c->outcome[S2_OUT_MAPPED], c->outcome[S2_OUT_RELAXED],
		c->outcome[S2_OUT_RELAX_NOOP], c->outcome[S2_OUT_EAGAIN]);
	for (int i = 0; i < S2_EAGAIN_CAUSE_NR; i++)
		fprintf(out, "%s%s %" G_GUINT64_FORMAT, i ? ", " : " (", s2_eagain_cause_name(i),
			c->eagain[i]);
	fprintf(out, ")\n");
	fprintf(out, "leaves installed: 4K %" G_GUINT64_FORMAT ", 2M %" G_GUINT64_FORMAT
		", 1G %" G_GUINT64_FORMAT "; block splits %" G_GUINT64_FORMAT
		", table->block collapses %" G_GUINT64_FORMAT "\n",
		c->maps_by_level[3], c->maps_by_level[2], c->maps_by_level[1],
		c->block_splits, c->table_collapses);
	fprintf(out, "D-cache clean to PoC: %" G_GUINT64_FORMAT " calls, %s cleaned; "
		"the v5.13 abort site would clean %s; %" G_GUINT64_FORMAT " calls elided by FWB\n",
		c->dclean_calls, cleaned, abort_site, c->dclean_elided_fwb);
	print_boot(out, c);
	fprintf(out, "I-cache invalidation: %" G_GUINT64_FORMAT " calls, %s by VA, %"
		G_GUINT64_FORMAT " whole-cache; %" G_GUINT64_FORMAT " calls elided by DIC\n",
		c->iinval_calls, iinval, c->iinval_all, c->iinval_elided_dic);
	fprintf(out, "TLBI: %" G_GUINT64_FORMAT, sum(c->tlbi, S2_TLBI_CAUSE_NR));
	for (int i = 0; i < S2_TLBI_CAUSE_NR; i++)
		fprintf(out, "%s%s %" G_GUINT64_FORMAT, i ? ", " : " (", s2_tlbi_cause_name(i),
			c->tlbi[i]);
	fprintf(out, "); %" G_GUINT64_FORMAT " local\n", c->tlbi_local);
	if (c->eager_splits)
		fprintf(out, "eager splits: %" G_GUINT64_FORMAT " blocks\n", c->eager_splits);
	fprintf(out, "host pages zeroed: %" G_GUINT64_FORMAT " (%s, %" G_GUINT64_FORMAT
		" duplicated by racing first touches)\n", c->host_pages_zeroed, zeroed,
		c->zero_duplicate);
	fprintf(out, "mmu_lock: %" G_GUINT64_FORMAT " acquisitions, wait total %" G_GUINT64_FORMAT
		" cycles, p50 %" G_GUINT64_FORMAT ", p99 %" G_GUINT64_FORMAT ", max %"
		G_GUINT64_FORMAT "; held %.1f%% of the makespan\n", lw->count, lw->total,
		s2_lock_hist_percentile(lw, 50), s2_lock_hist_percentile(lw, 99), lw->max,
		sim->makespan ? 100.0 * c->lock_hold_cycles / sim->makespan : 0.0);
	print_costs(out, c);
	if (sim->vmm_commands)
		fprintf(out, "VMM commands: %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " cycles\n",
			sim->vmm_commands, sim->vmm_cycles);
	fprintf(out, "\n");
	print_phases(out, sim);
	print_vcpus(out, sim);
	g_free(cleaned);
	g_free(abort_site);
	g_free(iinval);
	g_free(zeroed);
}

/* ---- JSON ---- */

static void add_u64(JsonBuilder *b, const char *key, uint64_t v)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, (gint64)v);
}

static void add_str(JsonBuilder *b, const char *key, const char *v)
{
	json_builder_set_member_name(b, key);
	json_builder_add_string_value(b, v ? v : "");
}

static void add_named(JsonBuilder *b, const char *key, const uint64_t *v, int n,
		      const char *(*name)(int))
{
	json_builder_set_member_name(b, key);
	json_builder_begin_object(b);
	for (int i = 0; i < n; i++)
		add_u64(b, name(i), v[i]);
	json_builder_end_object(b);
}

static const char *fault_name(int i) { return s2_fault_kind_name(i); }
static const char *outcome_name(int i) { return s2_outcome_name(i); }
static const char *tlbi_name(int i) { return s2_tlbi_cause_name(i); }
static const char *cost_name(int i) { return s2_cost_kind_name(i); }
static const char *eagain_name(int i) { return s2_eagain_cause_name(i); }
static const char *cause_name(int i) { return s2_unmap_cause_name(i); }

static void add_counters(JsonBuilder *b, const struct s2_counters *c)
{
	add_named(b, "faults", c->faults, S2_FAULT_KIND_NR, fault_name);
	add_named(b, "outcomes", c->outcome, S2_OUT_NR, outcome_name);
	add_named(b, "eagain", c->eagain, S2_EAGAIN_CAUSE_NR, eagain_name);
	add_u64(b, "refaults", c->refaults);
	add_u64(b, "bbm_window_faults", c->bbm_window_faults);
	add_u64(b, "leaves_4k", c->maps_by_level[3]);
	add_u64(b, "leaves_2m", c->maps_by_level[2]);
	add_u64(b, "leaves_1g", c->maps_by_level[1]);
	add_u64(b, "block_splits", c->block_splits);
	add_u64(b, "table_collapses", c->table_collapses);
	add_u64(b, "dclean_calls", c->dclean_calls);
	add_u64(b, "dclean_bytes", c->dclean_bytes);
	add_u64(b, "dclean_elided_fwb", c->dclean_elided_fwb);
	add_u64(b, "dclean_abort_site_bytes", c->dclean_abort_site_bytes);
	add_u64(b, "iinval_calls", c->iinval_calls);
	add_u64(b, "iinval_bytes", c->iinval_bytes);
	add_u64(b, "iinval_all", c->iinval_all);
	add_u64(b, "iinval_elided_dic", c->iinval_elided_dic);
	add_named(b, "tlbi", c->tlbi, S2_TLBI_CAUSE_NR, tlbi_name);
	add_u64(b, "vmflush_dclean_calls", c->vmflush_dclean_calls);
	add_u64(b, "vmflush_dclean_bytes", c->vmflush_dclean_bytes);
	add_u64(b, "unmap_dclean_calls", c->unmap_dclean_calls);
	add_u64(b, "unmap_dclean_bytes", c->unmap_dclean_bytes);
	add_u64(b, "vmflushes", c->vmflushes);
	add_u64(b, "vmflush_by_toggle", c->vmflush_by_toggle);
	add_u64(b, "vmflush_by_setway", c->vmflush_by_setway);
	add_u64(b, "vmflush_lock_cycles", c->vmflush_lock_cycles);
	add_u64(b, "vmflush_lock_drops", c->vmflush_lock_drops);
	add_u64(b, "vmreg_trapped", c->vmreg_trapped);
	add_u64(b, "vmreg_untrapped", c->vmreg_untrapped);
	add_u64(b, "setway_trapped", c->setway_trapped);
	add_u64(b, "resets", c->resets);
	add_named(b, "notifier_unmaps", c->notifier_unmaps, S2_UNMAP_CAUSE_NR, cause_name);
	add_u64(b, "change_pte_maps", c->change_pte_maps);
	add_u64(b, "change_pte_skipped", c->change_pte_skipped);
	add_u64(b, "cow_breaks", c->cow_breaks);
	add_u64(b, "tlbi_local", c->tlbi_local);
	add_u64(b, "eager_splits", c->eager_splits);
	add_u64(b, "host_pages_zeroed", c->host_pages_zeroed);
	add_u64(b, "zero_bytes", c->zero_bytes);
	add_u64(b, "zero_duplicate", c->zero_duplicate);
	add_u64(b, "pt_pages_allocated", c->pt_pages_allocated);
	add_u64(b, "pt_entries_freed", c->pt_entries_freed);
	add_u64(b, "wp_leaves", c->wp_leaves);
	add_u64(b, "unmapped_leaves", c->unmapped_leaves);
	add_u64(b, "lock_acquisitions", c->lock_wait.count);
	add_u64(b, "lock_wait_total", c->lock_wait.total);
	add_u64(b, "lock_wait_p50", s2_lock_hist_percentile(&c->lock_wait, 50));
	add_u64(b, "lock_wait_p99", s2_lock_hist_percentile(&c->lock_wait, 99));
	add_u64(b, "lock_wait_max", c->lock_wait.max);
	add_u64(b, "lock_hold_cycles", c->lock_hold_cycles);
	add_u64(b, "dvm_busy_cycles", c->dvm_busy_cycles);
	add_named(b, "cycles_by_kind", c->cost, S2_COST_NR, cost_name);
}

/* Counters that are plain sums can be differenced per phase. */
static void add_phase_counters(JsonBuilder *b, const struct s2_phase *ph)
{
	struct s2_counters d;
	const uint64_t *end = (const uint64_t *)&ph->at_end;
	const uint64_t *start = (const uint64_t *)&ph->at_start;
	uint64_t *out = (uint64_t *)&d;

	G_STATIC_ASSERT(sizeof(struct s2_counters) % sizeof(uint64_t) == 0);
	for (size_t i = 0; i < sizeof(d) / sizeof(uint64_t); i++)
		out[i] = end[i] - start[i];
	/* a maximum does not subtract: bound it by the phase's highest bucket */
	d.lock_wait.max = 0;
	for (size_t i = G_N_ELEMENTS(d.lock_wait.bucket); i-- > 0;) {
		if (d.lock_wait.bucket[i]) {
			d.lock_wait.max = MIN(ph->at_end.lock_wait.max,
					      s2_lock_hist_bucket_high(i));
			break;
		}
	}
	add_counters(b, &d);
}

static void add_profile_field(const char *group, const char *key, const char *value, void *b)
{
	add_str(b, key, value);
}

static void add_config(JsonBuilder *b, const struct s2_sim *sim, const char *trace_path)
{
	const struct s2_trace_header *h = &sim->src->hdr;

	json_builder_set_member_name(b, "config");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "policy");
	json_builder_begin_object(b);
	add_str(b, "name", sim->pol->name);
	add_str(b, "kernel", sim->pol->kernel);
	add_str(b, "source", sim->pol->source);
	add_str(b, "cmo_site", s2_cmo_site_name(sim->pol->cmo_site));
	add_str(b, "lock", s2_lock_mode_name(sim->pol->lock));
	add_str(b, "break", s2_break_mode_name(sim->pol->brk));
	add_str(b, "relax_tlbi", s2_relax_tlbi_name(sim->pol->relax_tlbi));
	add_str(b, "icache", s2_icache_mode_name(sim->pol->icache));
	json_builder_set_member_name(b, "range_tlbi");
	json_builder_add_boolean_value(b, sim->pol->range_tlbi);
	json_builder_set_member_name(b, "eager_split");
	json_builder_add_boolean_value(b, sim->pol->eager_split);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "profile");
	json_builder_begin_object(b);
	add_str(b, "name", sim->prof->name);
	s2_profile_foreach(sim->prof, add_profile_field, b);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "trace");
	json_builder_begin_object(b);
	add_str(b, "path", trace_path);
	add_str(b, "unit", h->unit == S2_UNIT_NS ? "ns" : "cycles");
	add_u64(b, "freq_mhz_of_deltas", sim->freq_mhz);
	add_u64(b, "ipa_bits", h->ipa_bits);
	add_u64(b, "vcpus", h->nr_vcpus);
	json_builder_set_member_name(b, "memslots");
	json_builder_begin_array(b);
	for (uint32_t i = 0; i < h->nr_slots; i++) {
		const struct s2_memslot *s = &h->slots[i];

		json_builder_begin_object(b);
		add_u64(b, "id", s->id);
		add_u64(b, "gpa", s->gpa);
		add_u64(b, "size", s->size);
		add_u64(b, "hva", s->hva);
		add_str(b, "backing", s2_backing_name(s->backing));
		json_builder_set_member_name(b, "populated");
		json_builder_add_boolean_value(b, s->populated);
		json_builder_set_member_name(b, "readonly");
		json_builder_add_boolean_value(b, s->readonly);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	json_builder_end_object(b);
}

static void add_vcpus(JsonBuilder *b, const struct s2_sim *sim)
{
	json_builder_set_member_name(b, "vcpus");
	json_builder_begin_array(b);
	for (uint32_t i = 0; i < sim->nr_vcpus; i++) {
		const struct s2_vcpu *v = &sim->vcpus[i];

		json_builder_begin_object(b);
		add_u64(b, "id", i);
		add_u64(b, "accesses", v->accesses);
		add_u64(b, "faults", s2_vm_vcpu_faults(sim->vm, i));
		add_u64(b, "guest_cycles", v->guest_cycles);
		add_u64(b, "fault_cycles", s2_vm_vcpu_fault_cycles(sim->vm, i));
		add_u64(b, "barrier_cycles", v->barrier_cycles);
		add_u64(b, "finished", v->finished);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void add_phases(JsonBuilder *b, const struct s2_sim *sim)
{
	json_builder_set_member_name(b, "phases");
	json_builder_begin_array(b);
	for (guint i = 0; i < sim->phases->len; i++) {
		const struct s2_phase *ph = &g_array_index(sim->phases, struct s2_phase, i);

		json_builder_begin_object(b);
		add_str(b, "name", ph->name);
		add_u64(b, "start", ph->start);
		add_u64(b, "cycles", ph->end - ph->start);
		add_phase_counters(b, ph);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

char *s2_report_json(const struct s2_sim *sim, const char *trace_path)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *gen = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_begin_object(b);
	add_str(b, "s2sim_version", "0.1");
	add_config(b, sim, trace_path);
	json_builder_set_member_name(b, "totals");
	json_builder_begin_object(b);
	add_u64(b, "makespan_cycles", sim->makespan);
	add_u64(b, "records", sim->records);
	add_u64(b, "vmm_commands", sim->vmm_commands);
	add_u64(b, "vmm_cycles", sim->vmm_cycles);
	add_counters(b, s2_vm_counters(sim->vm));
	json_builder_end_object(b);
	add_phases(b, sim);
	add_vcpus(b, sim);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
	return text;
}
