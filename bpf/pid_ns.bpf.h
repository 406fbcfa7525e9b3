/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pids and tids as the loader's pid namespace sees them. In the initial
 * namespace (ns_init) the kernel's ids are the loader's; elsewhere every id
 * is translated through the task's struct pid. The settings are defined in
 * lifecycle.bpf.c and filled in by the loader before load.
 */
#ifndef PCTX_PID_NS_BPF_H
#define PCTX_PID_NS_BPF_H

extern const volatile bool ns_init;
extern const volatile __u64 ns_dev;
extern const volatile __u64 ns_ino;
/* Level of the loader's namespace, found on first use (-1: not yet). */
extern int ns_level;

/* The loader's namespace level, searched once in a task we know is inside it. */
static __always_inline int loader_ns_level(struct pid *pid)
{
	unsigned int top = BPF_CORE_READ(pid, level);
	struct upid up;

	if (ns_level >= 0)
		return ns_level;
	for (int i = 0; i < 32; i++) {
		if (i > top)
			break;
		if (bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[i]))
			return -1;
		if (BPF_CORE_READ(up.ns, ns.inum) == ns_ino) {
			ns_level = i;
			return i;
		}
	}
	return -1;
}

/* A pid number as the loader sees it; 0 when the loader cannot see it. */
static __always_inline __s32 pid_nr_for_loader(struct pid *pid)
{
	struct upid up;
	int level;

	if (!pid)
		return 0;
	level = loader_ns_level(pid);
	if (level < 0 || level > BPF_CORE_READ(pid, level))
		return 0;
	if (bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level & 31]))
		return 0;
	if (BPF_CORE_READ(up.ns, ns.inum) != ns_ino)
		return 0;
	return up.nr;
}

static __always_inline __s32 task_tid(struct task_struct *task)
{
	if (ns_init)
		return BPF_CORE_READ(task, pid);
	return pid_nr_for_loader(BPF_CORE_READ(task, thread_pid));
}

static __always_inline __s32 task_tgid(struct task_struct *task)
{
	if (ns_init)
		return BPF_CORE_READ(task, tgid);
	return pid_nr_for_loader(BPF_CORE_READ(task, group_leader, thread_pid));
}

/* Current task's tgid and tid as the loader sees them; false if it cannot. */
static __always_inline bool current_ids(__u32 *tgid, __u32 *tid)
{
	struct bpf_pidns_info ns;
	__u64 id;

	if (ns_init) {
		id = bpf_get_current_pid_tgid();
		*tgid = id >> 32;
		*tid = (__u32)id;
		return true;
	}
	if (bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns)))
		return false;
	*tgid = ns.tgid;
	*tid = ns.pid;
	return true;
}

#endif /* PCTX_PID_NS_BPF_H */
