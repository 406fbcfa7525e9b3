/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel differences the lifecycle program reads around, one place for all. */
#ifndef PCTX_CORE_FIXES_BPF_H
#define PCTX_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * Linux 5.17 renamed signal_struct::group_exit_task to group_exec_task when it
 * stopped serving coredumps (commit 60700e38fb68, "signal: Rename
 * group_exit_task group_exec_task"). Either names the thread running an exec
 * that is killing the other threads.
 */
struct signal_struct___old {
	struct task_struct *group_exit_task;
} __attribute__((preserve_access_index));

static __always_inline struct task_struct *signal_exec_task(struct signal_struct *sig)
{
	if (bpf_core_field_exists(sig->group_exec_task))
		return BPF_CORE_READ(sig, group_exec_task);
	return BPF_CORE_READ((struct signal_struct___old *)sig, group_exit_task);
}

/* include/linux/sched/signal.h: unchanged since 2.6; #defines are not in BTF. */
#define PCTX_SIGNAL_GROUP_EXIT 0x00000004

#endif /* PCTX_CORE_FIXES_BPF_H */
