/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A session's scope beyond the processes it names: every process of a
 * cgroup v2 subtree, or every process of the machine. The fork hook asks
 * task_in_scope() of each child an untracked or scoped parent makes, and
 * the cgroup hook of processes moved into and out of the subtree.
 */
#ifndef PCTX_SCOPE_BPF_H
#define PCTX_SCOPE_BPF_H

#include "core_fixes.bpf.h"

/* Settings, defined in maps.bpf.c. */
extern const volatile __u32 scope_kind;	     /* enum pctx_scope_kind */
extern const volatile __u64 scope_cgroup_id; /* PCTX_SCOPE_CGROUP: the subtree's root */
/* The tracer's own tgid, as it sees it (the loader's pid namespace): what it
 * forks is never in scope. */
extern const volatile __u32 tracer_tgid;

/* Deep enough for any real hierarchy (Kubernetes pods sit at 4 or 5). */
#define PCTX_MAX_CGROUP_DEPTH 32

static __always_inline struct cgroup *cgroup_parent(struct cgroup *cg)
{
	struct cgroup_subsys_state *css = BPF_CORE_READ(cg, self.parent);

	/* self is a cgroup's own css, at offset 0 in every kernel so far. */
	if (!css)
		return NULL;
	return (struct cgroup *)((char *)css - bpf_core_field_offset(struct cgroup, self));
}

/*
 * cg is the scope's root or below it. Walked up by parent rather than
 * indexed by depth: a depth read in a cgroup namespace is not the kernel's.
 */
static __always_inline bool cgroup_in_scope(struct cgroup *cg)
{
	for (int i = 0; i < PCTX_MAX_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == scope_cgroup_id)
			return true;
		cg = cgroup_parent(cg);
	}
	return false;
}

/* A new or moved process belongs to the scope. Kernel threads never do. */
static __always_inline bool task_in_scope(struct task_struct *task)
{
	if (BPF_CORE_READ(task, flags) & PCTX_PF_KTHREAD)
		return false;
	if (scope_kind == PCTX_SCOPE_ALL)
		return true;
	if (scope_kind == PCTX_SCOPE_CGROUP)
		return cgroup_in_scope(BPF_CORE_READ(task, cgroups, dfl_cgrp));
	return false;
}

#endif /* PCTX_SCOPE_BPF_H */
