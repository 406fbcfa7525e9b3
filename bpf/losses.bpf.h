/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What BPF could not do, counted per CPU and by kind (enum pctx_loss_kind in
 * lifecycle.h): never silent, userspace sums and reports it. The map is
 * defined in lifecycle.bpf.c.
 */
#ifndef PCTX_LOSSES_BPF_H
#define PCTX_LOSSES_BPF_H

struct pctx_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pctx_stats);
};
extern struct pctx_stats_map stats SEC(".maps");

static __always_inline void count_loss(__u32 kind)
{
	__u32 zero = 0;
	struct pctx_stats *s = bpf_map_lookup_elem(&stats, &zero);

	if (s && kind < PCTX_LOSS_KINDS)
		s->lost[kind]++;
}

/* A context switch of a counted thread the kernel did not report. */
static __always_inline void count_unseen_switch(void)
{
	__u32 zero = 0;
	struct pctx_stats *s = bpf_map_lookup_elem(&stats, &zero);

	if (s)
		s->unseen_switches++;
}

#endif /* PCTX_LOSSES_BPF_H */
