// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lifecycle of a traced process tree: forks, threads, execs and exits of the
 * processes in the tracked map, sent to userspace through one ring buffer.
 * Every hook here fires for every task on the machine, so an untracked task
 * costs one map lookup and nothing more. Linked with maps.bpf.c and
 * counters.bpf.c into one object, which the loader opens as the lifecycle
 * skeleton.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "lifecycle.h"
#include "pid_ns.bpf.h"
#include "losses.bpf.h"
#include "counters.bpf.h"
#include "session_maps.bpf.h"
#include "scope.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CLONE_THREAD 0x00010000

/* When a record last woke the consumer. Updated racily: a stale value can
 * only cause an extra wakeup, never a missing one. */
__u64 last_wakeup_ns = 0;

/* Exec records are assembled here, then copied out at their real length. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pctx_exec_record);
} exec_scratch SEC(".maps");

/* The submit flag of a record made at now (see PCTX_WAKEUP_INTERVAL_NS). */
static __always_inline __u64 wakeup_flag(__u64 now)
{
	if (now - last_wakeup_ns >= PCTX_WAKEUP_INTERVAL_NS ||
	    bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >
		    bpf_ringbuf_query(&records, BPF_RB_RING_SIZE) / 4) {
		last_wakeup_ns = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 leader_start_time(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_time);
}

/* The current task's process entry, if it is this process's and not one left
 * by an earlier process with the same pid. */
static __always_inline struct pctx_tracked *lookup_current(__u32 *tgid, __u32 *tid)
{
	struct pctx_tracked *t;
	__u64 start;

	if (!current_ids(tgid, tid))
		return NULL;
	t = bpf_map_lookup_elem(&tracked, tgid);
	if (!t)
		return NULL;
	/* Not bpf_get_current_task_btf(): that needs Linux 5.11. */
	start = leader_start_time((struct task_struct *)bpf_get_current_task());
	if (t->start_time == 0) {
		t->start_time = start;
	} else if (t->start_time != start) {
		bpf_map_delete_elem(&tracked, tgid);
		return NULL;
	}
	return t;
}

/* Sends a record; a full ring buffer counts it lost, as loss_kind. */
static __always_inline int emit(__u32 type, __u32 loss_kind, __u32 flags, __s32 pid, __s32 tid,
				__s32 child, __s32 code, const __u64 *values)
{
	struct pctx_record *r;
	__u64 now = bpf_ktime_get_ns();

	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r) {
		count_loss(loss_kind);
		return -1;
	}
	r->type = type;
	r->flags = flags;
	r->time_ns = now;
	r->pid = pid;
	r->tid = tid;
	r->child = child;
	r->code = code;
	r->args_len = 0;
	r->reserved = 0;
	for (int k = 0; k < PCTX_MAX_COUNTERS; k++)
		r->values[k] = values ? values[k] : 0;
	bpf_ringbuf_submit(r, wakeup_flag(now));
	return 0;
}

/*
 * Processes: the child is followed before it can run, in its parent's
 * context. A followed tree's child always is; in a scope (a cgroup, the
 * machine), a child is when it is born inside it, whoever its parent.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(pctx_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pctx_tracked *t, ct = {};
	__u32 tgid = 0, tid = 0, flags = 0;
	__s32 cpid;
	bool tree;

	t = lookup_current(&tgid, &tid);
	tree = t && (t->flags & PCTX_TRACK_FOLLOW_FORK) && !(t->flags & PCTX_TRACK_SCOPED);
	if (!tree && (scope_kind == PCTX_SCOPE_NONE || (!t && tgid == tracer_tgid)))
		return 0;
	if (BPF_CORE_READ(child, tgid) == BPF_CORE_READ(parent, tgid))
		return 0; /* a thread: task_newtask reports it */

	cpid = task_tid(child);
	if (tree) {
		ct.flags = t->flags & ~PCTX_TRACK_FIRST_EXEC;
	} else if (task_in_scope(child) && cpid > 0) {
		ct.flags = PCTX_TRACK_SCOPED | PCTX_TRACK_FOLLOW_FORK;
	} else {
		/* A scoped process's child born outside the scope. */
		if (t && (t->flags & PCTX_TRACK_SCOPED))
			emit(PCTX_REC_FORK, PCTX_LOSS_FORK, PCTX_FORK_UNTRACKED | PCTX_FORK_OUTSIDE,
			     tgid, tid, cpid, 0, NULL);
		return 0;
	}
	ct.start_time = BPF_CORE_READ(child, start_time);
	/* Whatever entry the child's pid has is a dead process's leftover (a
	 * live process cannot share the pid): replaced, never refused. */
	if (cpid <= 0 || bpf_map_update_elem(&tracked, &cpid, &ct, BPF_ANY)) {
		count_loss(PCTX_LOSS_TRACKED_FULL);
		flags |= PCTX_FORK_UNTRACKED;
	} else if (!thread_begin(BPF_CORE_READ(child, pid), cpid, cpid, 0, true)) {
		flags |= PCTX_REC_UNCOUNTED;
	}
	if (t)
		emit(PCTX_REC_FORK, PCTX_LOSS_FORK, flags, tgid, tid, cpid, 0, NULL);
	else if (!(flags & PCTX_FORK_UNTRACKED))
		emit(PCTX_REC_ENTER, PCTX_LOSS_FORK, flags, cpid, cpid, 0, 0, NULL);
	return 0;
}

/*
 * A process moved between cgroups (by cgroup.procs, or clone3's
 * CLONE_INTO_CGROUP is seen at fork instead): it joins the scope when its
 * new cgroup is inside and it leaves when it is not. Threads of a threaded
 * cgroup move one by one; the process follows its leader. Loaded only for
 * a cgroup scope.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(pctx_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	struct pctx_tracked *t, ct = {};
	__s32 pid = task_tgid(task);
	bool inside;

	if (pid <= 0 || pid == tracer_tgid)
		return 0;
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0; /* a thread of a threaded cgroup: the leader decides */
	inside = cgroup_in_scope(dst);
	t = bpf_map_lookup_elem(&tracked, &pid);
	if (t) {
		/* Each case tested on its own: clang would fold them into bit
		 * operations the verifier cannot follow. */
		if (t->start_time != 0 && t->start_time != leader_start_time(task))
			t = NULL; /* a dead process's leftover */
	}
	if (t) {
		if (inside || !(t->flags & PCTX_TRACK_SCOPED))
			return 0;
		bpf_map_delete_elem(&tracked, &pid);
		emit(PCTX_REC_LEAVE, PCTX_LOSS_EXIT, 0, pid, pid, 0, 0, NULL);
		return 0;
	}
	if (!inside)
		return 0;
	ct.flags = PCTX_TRACK_SCOPED | PCTX_TRACK_FOLLOW_FORK;
	ct.start_time = leader_start_time(task);
	if (bpf_map_update_elem(&tracked, &pid, &ct, BPF_ANY)) {
		count_loss(PCTX_LOSS_TRACKED_FULL);
		return 0;
	}
	emit(PCTX_REC_ENTER, PCTX_LOSS_FORK, PCTX_ENTER_MOVED, pid, pid, 0, 0, NULL);
	return 0;
}

/*
 * Threads, from task_newtask rather than sched_process_fork: it also sees the
 * threads the kernel adds to a process (io_uring workers) without a clone().
 */
SEC("tp_btf/task_newtask")
int BPF_PROG(pctx_newtask, struct task_struct *task, __u64 clone_flags)
{
	__u32 tgid, tid, flags = 0;
	__s32 new_tid;

	if (!(clone_flags & CLONE_THREAD))
		return 0;
	if (!lookup_current(&tgid, &tid))
		return 0;
	new_tid = task_tid(task);
	if (!thread_begin(BPF_CORE_READ(task, pid), tgid, new_tid, 0, true))
		flags |= PCTX_REC_UNCOUNTED;
	emit(PCTX_REC_THREAD, PCTX_LOSS_LWP_CREATE, flags, tgid, tid, new_tid, 0, NULL);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pctx_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pctx_tracked *t;
	struct pctx_exec_record *e;
	unsigned long start, end, len;
	__u32 tgid, tid, zero = 0, flags = 0;

	t = lookup_current(&tgid, &tid);
	if (!t)
		return 0;
	/* A non-leader's exec made it the leader: the process's identity now. */
	t->start_time = BPF_CORE_READ(p, start_time);
	if (t->flags & PCTX_TRACK_FIRST_EXEC) {
		t->flags &= ~PCTX_TRACK_FIRST_EXEC;
		flags |= PCTX_EXEC_FIRST;
	} else if (t->flags & PCTX_TRACK_STOP_AT_EXEC) {
		bpf_map_delete_elem(&tracked, &tgid);
		flags |= PCTX_EXEC_UNTRACKED;
	}

	e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e) {
		count_loss(PCTX_LOSS_EXEC);
		return 0;
	}
	/* The new image's argv: written by the kernel, so present in memory. */
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > PCTX_ARGS_MAX) {
		len = PCTX_ARGS_MAX;
		flags |= PCTX_EXEC_TRUNCATED;
	}
	if (bpf_probe_read_user(e->args, len, (void *)start))
		len = 0;

	e->hdr.type = PCTX_REC_EXEC;
	e->hdr.time_ns = bpf_ktime_get_ns();
	/* argv was read above: its length only bounds what is copied out. */
	e->hdr.pid = tgid;
	e->hdr.tid = tid;
	/* old_pid is a kernel id: only the initial namespace can use it as is. */
	e->hdr.child = ns_init ? old_pid : 0;
	e->hdr.code = 0;
	e->hdr.args_len = len;
	e->hdr.reserved = 0;
	__builtin_memset(e->hdr.values, 0, sizeof(e->hdr.values));
	/* The old image's totals go out; the new image counts from zero. */
	if (!thread_finish(p, old_pid, e->hdr.values, !(flags & PCTX_EXEC_UNTRACKED), p->pid, tgid,
			   tid))
		flags |= PCTX_REC_UNCOUNTED;
	e->hdr.flags = flags;
	if (bpf_ringbuf_output(&records, e, sizeof(e->hdr) + len, wakeup_flag(e->hdr.time_ns)))
		count_loss(PCTX_LOSS_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pctx_exit, struct task_struct *p)
{
	struct signal_struct *sig;
	struct pctx_tracked *t;
	__u64 values[PCTX_MAX_COUNTERS] = {};
	__u32 tgid, tid, flags = 0, sig_flags;
	__s32 code, group_code;

	t = lookup_current(&tgid, &tid);
	if (!t)
		return 0;

	if (!thread_finish(p, BPF_CORE_READ(p, pid), values, false, 0, 0, 0))
		flags |= PCTX_REC_UNCOUNTED;
	sig = BPF_CORE_READ(p, signal);
	/* do_exit() has already counted this thread out of signal->live. Read
	 * before the flags: a caller of exit_group() sets them before its own
	 * decrement, so a thread that sees live at 0 sees them too. */
	if (BPF_CORE_READ(sig, live.counter) == 0)
		flags |= PCTX_EXIT_GROUP_DEAD;
	sig_flags = BPF_CORE_READ(sig, flags);
	group_code = BPF_CORE_READ(sig, group_exit_code);
	if (sig_flags & PCTX_SIGNAL_GROUP_EXIT)
		flags |= PCTX_EXIT_GROUP_EXIT;
	/* Killed, or else the exit_group() caller: see core_fixes.bpf.h. */
	if (BPF_CORE_READ(p, flags) & PCTX_PF_SIGNALED)
		flags |= PCTX_EXIT_ZAPPED;
	else if ((sig_flags & PCTX_SIGNAL_GROUP_EXIT) && !(group_code & 0x7f) &&
		 !(BPF_CORE_READ(p, pending.signal.sig[0]) & PCTX_SIGKILL_BIT))
		flags |= PCTX_EXIT_CALLER;
	/* The status wait(2) reports for the process, as wait_task_zombie() picks it. */
	code = BPF_CORE_READ(p, exit_code);
	if (sig_flags & PCTX_SIGNAL_GROUP_EXIT)
		code = group_code;
	emit(PCTX_REC_EXIT, (flags & PCTX_EXIT_GROUP_DEAD) ? PCTX_LOSS_EXIT : PCTX_LOSS_LWP_EXIT,
	     flags, tgid, tid, 0, code, values);

	/*
	 * The entry goes with the process, whether or not its record found room,
	 * so a dead process never holds a place a live one needs. Threads still
	 * inside exit() (not yet released: nr_threads counts them) may send
	 * records after this one; the entry then stays, marked dead, for them,
	 * and the last of them (or userspace) removes it.
	 */
	if ((flags & PCTX_EXIT_GROUP_DEAD) || (t->flags & PCTX_TRACK_DEAD)) {
		if (BPF_CORE_READ(sig, nr_threads) <= 1)
			bpf_map_delete_elem(&tracked, &tgid);
		else
			t->flags |= PCTX_TRACK_DEAD;
	}
	return 0;
}
