// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-thread counters, linked into the lifecycle object (see counters.bpf.h
 * for what the lifecycle programs call): the context-switch program that
 * adds each tracked thread's slice to its totals, the iterator that seeds a
 * captured process's threads, and the one that samples every counted thread
 * for a tick. Loaded only when counters are requested.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lifecycle.h"
#include "pid_ns.bpf.h"
#include "counters.bpf.h"
#include "session_maps.bpf.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(pctx_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct pctx_thread *tp = NULL, *tn = NULL;
	__u32 ptid = prev->pid, ntid = next->pid, cpu;
	struct readings r;

	/* tid 0 is an idle task: never tracked. */
	if (ptid)
		tp = bpf_map_lookup_elem(&threads, &ptid);
	if (ntid)
		tn = bpf_map_lookup_elem(&threads, &ntid);
	/* Each pointer tested on its own: clang would OR them for one test,
	 * which the verifier refuses. */
	if (!tp) {
		if (!tn)
			return 0;
		cpu = bpf_get_smp_processor_id();
		read_counters(&r, cpu);
		switch_in(tn, &r, cpu, next, 0);
		return 0;
	}
	cpu = bpf_get_smp_processor_id();
	read_counters(&r, cpu);
	/* The scheduler accounted prev's runtime just before this tracepoint. */
	switch_out(tp, &r, prev->se.sum_exec_runtime, cpu);
	if (tn)
		switch_in(tn, &r, cpu, next, 0);
	return 0;
}

/* Userspace walks all tasks with this once per captured (or spawned)
 * process, so the threads it already has are counted from now on; with
 * seed_tgid 0, once for every tracked process (a scope's, at its start). */
__s32 seed_tgid = 0;

SEC("iter/task")
int pctx_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__s32 tgid;

	if (!task || ncounters == 0)
		return 0;
	tgid = task_tgid(task);
	if (seed_tgid != 0 ? tgid != seed_tgid : tgid <= 0 || !bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	thread_begin(BPF_CORE_READ(task, pid), tgid, task_tid(task),
		     BPF_CORE_READ(task, se.sum_exec_runtime), false);
	return 0;
}

/* The copy a sample writes out, made before it is known to be whole. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pctx_thread);
} sample_scratch SEC(".maps");

/*
 * A tick: every counted thread's entry, each copied whole (a seqlock read:
 * seq even and unchanged across the copy, retried while the switch program
 * updates it), with its runtime as the scheduler has accounted it now. One
 * pass over the machine's tasks, one read() of the iterator for all of them.
 */
SEC("iter/task")
int pctx_sample(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct pctx_sample hdr = {};
	struct pctx_thread *t, *copy;
	__u32 ktid, zero = 0, before;

	if (!task || ncounters == 0)
		return 0;
	ktid = task->pid;
	t = bpf_map_lookup_elem(&threads, &ktid);
	copy = bpf_map_lookup_elem(&sample_scratch, &zero);
	if (!t || !copy)
		return 0;
	hdr.ktid = ktid;
	hdr.pad = 1; /* torn until shown whole: userspace then reads it again */
	/*
	 * The runtime first, then the entry: the sample adds the runtime since
	 * the entry's last switch-out, and read the other way round a thread
	 * that woke, exited and ran the tail of do_exit between the two reads
	 * (uncounted after sched_process_exit) would add runtime its final
	 * totals leave out. Read first, it is never past any later total.
	 */
	hdr.rt_now = task->se.sum_exec_runtime;
	asm volatile("" ::: "memory");
	for (int i = 0; i < 4; i++) {
		before = *(volatile __u32 *)&t->seq;
		asm volatile("" ::: "memory");
		if (bpf_probe_read_kernel(copy, PCTX_THREAD_SIZE(ncounters), t))
			return 0;
		asm volatile("" ::: "memory");
		/* x86 keeps loads in order; a weaker CPU would need a fence here */
		if (!(before & 1) && *(volatile __u32 *)&t->seq == before) {
			hdr.pad = 0;
			break;
		}
	}
	bpf_seq_write(seq, &hdr, sizeof(hdr));
	bpf_seq_write(seq, copy, PCTX_THREAD_SIZE(ncounters));
	return 0;
}
