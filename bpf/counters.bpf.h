/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-thread counters, part of the lifecycle program: the loader opens each
 * requested perf event once per CPU into the counters array; at every context
 * switch a tracked thread's slice is added to its totals. Loaded only when
 * counters are requested (ncounters > 0): otherwise sched_switch costs nothing.
 */
#ifndef PCTX_COUNTERS_BPF_H
#define PCTX_COUNTERS_BPF_H

#include "counter_math.h"

#define E2BIG 7			/* errno values are not in BTF */
#define PCTX_TICK_NS 4000000ULL /* one scheduler tick at HZ=250 */

const volatile __u32 ncounters = 0;
const volatile __u32 nr_cpus = 1;
/* Bit k: counter k measures CPU time in ns (cpu-clock, task-clock). */
const volatile __u32 time_counters = 0;

/* Index counter * nr_cpus + cpu: each CPU reads only its own events. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 1); /* resized by the loader */
	__type(key, __u32);
	__type(value, __u32);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u32)); /* the kernel's tid */
	/* struct pctx_thread, cut by the loader to PCTX_THREAD_SIZE(ncounters):
	 * sizes, not a BTF type, so that the size can change. */
	__uint(value_size, sizeof(struct pctx_thread));
} threads SEC(".maps");

/* A zeroed entry to fill: too big for the BPF stack beside the readings. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pctx_thread);
} thread_scratch SEC(".maps");

struct readings {
	struct bpf_perf_event_value v[PCTX_MAX_COUNTERS];
	__u32 valid; /* bit k: v[k] was read */
};

/*
 * This CPU's counters now. A read fails for a CPU that was offline when the
 * events were opened: that counter's slice is then unseen, never garbage.
 * valid is built without a branch on purpose: as 2^n known constants, each
 * a path of its own, it made the verifier's work grow exponentially with n.
 */
static __always_inline void read_counters(struct readings *r, __u32 cpu)
{
	r->valid = 0;
	for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
		long err;

		if (k >= ncounters)
			break;
		err = bpf_perf_event_read_value(&counters, (__u64)k * nr_cpus + cpu, &r->v[k],
						sizeof(r->v[k]));
		/* 1 when err >= 0: the sign bit, inverted */
		r->valid |= (__u32)(((__u64)err >> 63) ^ 1) << k;
	}
}

/*
 * v, in a register the verifier has not linked to where v came from. What a
 * branch learns about a linked copy it also learns about the original: the
 * ranges slice_total() learnt of its slice_end for one counter then decided
 * its branches for the next, and each outcome became a path of its own.
 */
static __always_inline __u64 unlinked(__u64 v)
{
	asm volatile("%0 |= 0" : "+r"(v));
	return v;
}

/* How a slice ended, the same for every counter of the thread. */
struct slice_end {
	__u64 since_out; /* runtime since the last switch-out */
	__u64 missed;	 /* of it, runtime run in switches the kernel hid */
	__u64 observed;	 /* runtime whose counts were read: the rate's base */
	__u32 read_mask; /* bit k: counter k was read at both ends of the slice */
	__u32 rt_exact;	 /* since_out is exact: nothing to add from readings */
};

/*
 * Counter k's total once the slice ends: the slice read, plus what missed
 * switches hid. Time counters are the scheduler's own runtime, what
 * CLOCK_THREAD_CPUTIME_ID reports: exact at each switch, missed switches or
 * not, and without the interrupts handled meanwhile; only a running thread's
 * current slice, not yet accounted by the scheduler, comes from the perf
 * counter. Other counters recover hidden runtime at the thread's own rate.
 */
static __always_inline __u64 slice_total(const struct pctx_thread *t, const struct readings *r,
					 __u32 k, const struct slice_end *e)
{
	bool read = e->read_mask & (1U << k);
	__u64 since_out = unlinked(e->since_out), observed = unlinked(e->observed);
	__u64 total = t->c[k].total, slice = 0, unseen = read ? unlinked(e->missed) : since_out;

	if (read)
		slice = pctx_scale(r->v[k].counter - t->c[k].start,
				   r->v[k].enabled - t->c[k].start_enabled,
				   r->v[k].running - t->c[k].start_running);
	if (time_counters & (1U << k))
		return total + (e->rt_exact ? since_out : unseen + slice);
	if (unseen > 0 && observed > 0 && unseen <= observed)
		total += pctx_mul_div(total, unseen, observed);
	return total + slice;
}

/*
 * Ends the slice seen (if its start was seen) and adds what switches the
 * kernel did not report hid. rt_now is the thread's runtime now: exact at a
 * context switch, brought up to date by thread_finish() for a running thread
 * whose switch-in was seen (rt_exact), otherwise behind by up to a tick.
 */
static __always_inline void switch_out(struct pctx_thread *t, const struct readings *r,
				       __u64 rt_now, bool rt_exact, __u32 cpu)
{
	/* Its switch-in seen here: two missed switches could have moved it. */
	bool seen = t->on_cpu && t->cpu == cpu;
	struct slice_end e = {
		.since_out = rt_now - t->rt_last_out,
		.observed = t->rt_observed,
		.read_mask = seen ? t->start_valid & r->valid : 0,
		.rt_exact = rt_exact,
	};

	__sync_fetch_and_add(&t->seq, 1);
	e.missed = seen ? t->rt_in - t->rt_last_out : e.since_out;
	/* Sane gaps only: runtime never goes backwards. */
	if (e.since_out >= (1ULL << 40))
		e.since_out = 0;
	if (e.missed > e.since_out)
		e.missed = e.since_out;
	for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
		if (k >= ncounters)
			break;
		t->c[k].total = slice_total(t, r, k, &e);
	}
	if (seen)
		t->rt_observed += rt_now - t->rt_in;
	t->rt_last_out = rt_now;
	t->on_cpu = 0;
	__sync_fetch_and_add(&t->seq, 1);
}

static __always_inline void switch_in(struct pctx_thread *t, const struct readings *r, __u32 cpu,
				      struct task_struct *task)
{
	__sync_fetch_and_add(&t->seq, 1);
	t->rt_in = BPF_CORE_READ(task, se.sum_exec_runtime);
	t->start_valid = r->valid;
	t->ktime_in = bpf_ktime_get_ns();
	t->exec_start_in = BPF_CORE_READ(task, se.exec_start);
	for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
		if (k >= ncounters)
			break;
		t->c[k].start = r->v[k].counter;
		t->c[k].start_enabled = r->v[k].enabled;
		t->c[k].start_running = r->v[k].running;
	}
	t->cpu = cpu;
	t->on_cpu = 1;
	__sync_fetch_and_add(&t->seq, 1);
}

/* Starts counting a thread that has not run yet (or is being captured):
 * rt_now is its runtime so far. */
static __always_inline void thread_begin(__u32 ktid, __s32 pid, __s32 tid, __u64 rt_now)
{
	struct pctx_thread *t;
	__u32 zero = 0;

	if (ncounters == 0)
		return;
	t = bpf_map_lookup_elem(&thread_scratch, &zero);
	if (!t)
		return;
	__builtin_memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tid = tid;
	t->rt_in = rt_now;
	t->rt_last_out = rt_now;
	if (bpf_map_update_elem(&threads, &ktid, t, BPF_NOEXIST) == -E2BIG) {
		struct pctx_stats *s = cpu_stats();

		if (s)
			s->thread_failed++;
	}
}

/*
 * The current thread's totals up to now, into values; with restart, its
 * entry moves to new_ktid and counts again from zero (an exec). Otherwise the
 * entry is deleted: the thread is exiting, and what runs of it after
 * sched_process_exit (the tail of do_exit) is not counted.
 */
static __always_inline void thread_finish(struct task_struct *task, __u32 ktid, __u64 *values,
					  bool restart, __u32 new_ktid, __s32 pid, __s32 tid)
{
	struct pctx_thread *t;
	struct readings r;
	__u64 rt;
	__u32 cpu;

	if (ncounters == 0)
		return;
	t = bpf_map_lookup_elem(&threads, &ktid);
	if (!t)
		return;
	cpu = bpf_get_smp_processor_id();
	read_counters(&r, cpu);
	/* Current: its runtime lags by the time since the scheduler last
	 * updated it (under a tick); the slice seen covers that lag. */
	rt = BPF_CORE_READ(task, se.sum_exec_runtime);
	if (t->on_cpu && t->cpu == cpu) {
		/*
		 * The scheduler accounts a running thread at each tick; what ran
		 * since is the time since switch-in less what it accounted. That
		 * difference also holds the slice's interrupt time (ktime counts
		 * it, the scheduler's clock does not), so it is capped at one tick
		 * (HZ=250): the result is within a tick of the truth.
		 */
		__u64 since_in = bpf_ktime_get_ns() - t->ktime_in;
		__u64 accounted = BPF_CORE_READ(task, se.exec_start) - t->exec_start_in;

		if (since_in > accounted)
			rt += since_in - accounted < PCTX_TICK_NS ? since_in - accounted
								  : PCTX_TICK_NS;
	}
	switch_out(t, &r, rt, t->on_cpu && t->cpu == cpu, cpu);
	for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
		if (k >= ncounters) /* the value ends there */
			break;
		values[k] = t->c[k].total;
	}
	if (!restart) {
		bpf_map_delete_elem(&threads, &ktid);
		return;
	}
	if (new_ktid != ktid) {
		bpf_map_delete_elem(&threads, &ktid);
		thread_begin(new_ktid, pid, tid, rt);
		t = bpf_map_lookup_elem(&threads, &new_ktid);
		if (!t)
			return;
	} else {
		__sync_fetch_and_add(&t->seq, 1);
		for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
			if (k >= ncounters)
				break;
			t->c[k].total = 0;
		}
		t->rt_observed = 0;
		__sync_fetch_and_add(&t->seq, 1);
	}
	switch_in(t, &r, cpu, task);
}

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
		switch_in(tn, &r, cpu, next);
		return 0;
	}
	cpu = bpf_get_smp_processor_id();
	read_counters(&r, cpu);
	/* The scheduler accounted prev's runtime just before this tracepoint. */
	switch_out(tp, &r, prev->se.sum_exec_runtime, true, cpu);
	if (tn)
		switch_in(tn, &r, cpu, next);
	return 0;
}

/* Userspace walks all tasks with this once per captured (or spawned)
 * process, so the threads it already has are counted from now on. */
__s32 seed_tgid = 0;

SEC("iter/task")
int pctx_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task || ncounters == 0)
		return 0;
	if (task_tgid(task) != seed_tgid)
		return 0;
	thread_begin(BPF_CORE_READ(task, pid), seed_tgid, task_tid(task),
		     BPF_CORE_READ(task, se.sum_exec_runtime));
	return 0;
}

#endif /* PCTX_COUNTERS_BPF_H */
