/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-thread counters: the interface of counters.bpf.c to the lifecycle
 * programs, which start a thread's counting when it is born and end it when
 * it execs or exits. The loader opens each requested perf event once per CPU
 * into the counters array; at every context switch a tracked thread's slice
 * is added to its totals (counters.bpf.c). With no counters requested
 * (ncounters == 0) all of this is compiled out of the lifecycle programs and
 * the switch program is not loaded.
 */
#ifndef PCTX_COUNTERS_BPF_H
#define PCTX_COUNTERS_BPF_H

#include "counter_math.h"
#include "losses.bpf.h"

/* Settings, defined in counters.bpf.c. */
extern const volatile __u32 ncounters;
extern const volatile __u32 nr_cpus;
/* Bit k: counter k measures CPU time in ns (cpu-clock, task-clock). */
extern const volatile __u32 time_counters;

/*
 * One scheduler tick in ns, the most a running thread's runtime lags
 * behind: 10^9 / CONFIG_HZ, set by the loader from the kernel's
 * configuration. Not a __kconfig extern: libbpf 1.1 refuses to load an
 * object with one, weak or not, where no configuration file exists (Debian's
 * kernels in a bare initramfs), and the loader can fall back instead.
 */
extern const volatile __u64 tick_ns;

/* Index counter * nr_cpus + cpu: each CPU reads only its own events. */
struct pctx_counters_map {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 1); /* resized by the loader */
	__type(key, __u32);
	__type(value, __u32);
};
extern struct pctx_counters_map counters SEC(".maps");

struct pctx_threads_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u32)); /* the kernel's tid */
	/* struct pctx_thread, cut by the loader to PCTX_THREAD_SIZE(ncounters):
	 * sizes, not a BTF type, so that the size can change. */
	__uint(value_size, sizeof(struct pctx_thread));
};
extern struct pctx_threads_map threads SEC(".maps");

/* A whole entry's room: too big for the BPF stack beside the readings. */
struct pctx_thread_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pctx_thread);
};
extern struct pctx_thread_scratch_map thread_scratch SEC(".maps");

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
 * ranges one counter's update learnt of the shared slice_end then decided
 * the branches of the next, and each outcome became a path of its own.
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
};

/*
 * Counter k once the slice ends. Time counters are the scheduler's own
 * runtime, what CLOCK_THREAD_CPUTIME_ID reports: exact at each switch,
 * missed switches or not, and the same clock a sample reads (one clock per
 * counter, so a sample never exceeds a later total). Other counters add the
 * slice read, plus the runtime hidden by missed switches at the thread's
 * observed rate (pctx_end_slice() in counter_math.h).
 */
static __always_inline void end_counter(struct pctx_counter_state *c, const struct readings *r,
					__u32 k, const struct slice_end *e)
{
	bool read = e->read_mask & (1U << k);
	__u64 since_out = unlinked(e->since_out);
	__u64 unseen = read ? unlinked(e->missed) : since_out, slice = 0;

	if (time_counters & (1U << k)) {
		c->total += since_out;
		return;
	}
	if (read)
		slice = pctx_scale(r->v[k].counter - c->start, r->v[k].enabled - c->start_enabled,
				   r->v[k].running - c->start_running);
	pctx_end_slice(&c->total, &c->observed, slice, unseen, unlinked(e->observed));
}

/*
 * Ends the slice seen (if its start was seen) and adds what switches the
 * kernel did not report hid. rt_now is the thread's runtime now: exact at a
 * context switch, brought up to date by thread_finish() for a running
 * thread, otherwise behind by up to a tick.
 */
static __always_inline void switch_out(struct pctx_thread *t, const struct readings *r,
				       __u64 rt_now, __u32 cpu)
{
	/* Its switch-in seen here: two missed switches could have moved it. */
	bool seen = t->on_cpu && t->cpu == cpu;
	struct slice_end e = {
		.since_out = rt_now - t->rt_last_out,
		.observed = t->rt_observed,
		.read_mask = seen ? t->start_valid & r->valid : 0,
	};

	/* Not running as far as BPF saw, or elsewhere: its switch-in went
	 * unreported (a seeded thread may have been running all along). */
	if (!seen && t->cpu != PCTX_CPU_SEEDED)
		count_unseen_switch();
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
		end_counter(&t->c[k], r, k, &e);
	}
	/* rt_in can hold an estimate (an exec's lag): never a negative slice */
	if (seen && e.read_mask && rt_now >= t->rt_in)
		t->rt_observed += rt_now - t->rt_in;
	t->rt_last_out = rt_now;
	t->cpu = cpu; /* no longer PCTX_CPU_SEEDED: its next slice is its own */
	t->on_cpu = 0;
	__sync_fetch_and_add(&t->seq, 1);
}

/*
 * lag: how far the runtime lags behind now (thread_finish()'s estimate for a
 * running thread; 0 at a real switch-in, where the scheduler has just
 * brought it up to date). rt_in is the runtime now, lag included;
 * ktime_in the moment the scheduler last accounted it, the base
 * thread_finish() measures the unaccounted part of a slice from.
 */
static __always_inline void switch_in(struct pctx_thread *t, const struct readings *r, __u32 cpu,
				      struct task_struct *task, __u64 lag)
{
	/* Still running as far as BPF saw: its switch-out went unreported. */
	if (t->on_cpu)
		count_unseen_switch();
	__sync_fetch_and_add(&t->seq, 1);
	t->rt_in = BPF_CORE_READ(task, se.sum_exec_runtime) + lag;
	t->start_valid = r->valid;
	t->ktime_in = bpf_ktime_get_ns() - lag;
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

/*
 * Starts counting a thread from rt_now, its runtime so far. A new task
 * (fork, thread, exec) replaces whatever a dead task with the same tid left;
 * a seeded one (a captured process's thread) never replaces the entry its
 * birth already made. False when the thread is not counted; the failure is
 * counted as a loss.
 */
static __always_inline bool thread_begin(__u32 ktid, __s32 pid, __s32 tid, __u64 rt_now,
					 bool replace)
{
	struct pctx_thread *t;
	__u32 zero = 0;
	long err;

	if (ncounters == 0)
		return true;
	t = bpf_map_lookup_elem(&thread_scratch, &zero);
	if (!t)
		return false;
	__builtin_memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tid = tid;
	t->rt_in = rt_now;
	t->rt_last_out = rt_now;
	if (!replace)
		t->cpu = PCTX_CPU_SEEDED;
	err = bpf_map_update_elem(&threads, &ktid, t, replace ? BPF_ANY : BPF_NOEXIST);
	if (err == 0 || (!replace && err == -17 /* EEXIST: counted since its birth */))
		return true;
	count_loss(PCTX_LOSS_THREADS_FULL);
	return false;
}

/*
 * The current thread's totals up to now, into values; with restart, its
 * entry moves to new_ktid and counts again from zero (an exec). Otherwise the
 * entry is deleted: the thread is exiting, and what runs of it after
 * sched_process_exit (the tail of do_exit) is not counted. False when the
 * thread was not counted (values untouched).
 */
static __always_inline bool thread_finish(struct task_struct *task, __u32 ktid, __u64 *values,
					  bool restart, __u32 new_ktid, __s32 pid, __s32 tid)
{
	struct pctx_thread *t;
	struct readings r;
	__u64 rt, lag;
	__u32 cpu;

	if (ncounters == 0)
		return true;
	t = bpf_map_lookup_elem(&threads, &ktid);
	if (!t)
		return false;
	cpu = bpf_get_smp_processor_id();
	read_counters(&r, cpu);
	/* Current: its runtime lags by the time since the scheduler last
	 * updated it (under a tick); the slice seen covers that lag. */
	rt = BPF_CORE_READ(task, se.sum_exec_runtime);
	lag = 0;
	if (t->on_cpu && t->cpu == cpu) {
		/*
		 * The scheduler accounts a running thread at each tick; what ran
		 * since is the time since switch-in less what it accounted. That
		 * difference also holds the slice's interrupt time (ktime counts
		 * it, the scheduler's clock does not), so it is capped at one
		 * tick: the result is within a tick of the truth.
		 */
		__u64 since_in = bpf_ktime_get_ns() - t->ktime_in;
		__u64 accounted = BPF_CORE_READ(task, se.exec_start) - t->exec_start_in;
		__u64 tick = tick_ns;

		if (since_in > accounted)
			lag = since_in - accounted < tick ? since_in - accounted : tick;
		rt += lag;
	}
	switch_out(t, &r, rt, cpu);
	for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
		if (k >= ncounters) /* the value ends there */
			break;
		values[k] = t->c[k].total;
	}
	if (!restart) {
		bpf_map_delete_elem(&threads, &ktid);
		return true;
	}
	if (new_ktid != ktid) {
		bpf_map_delete_elem(&threads, &ktid);
		if (!thread_begin(new_ktid, pid, tid, rt, true))
			return true;
		t = bpf_map_lookup_elem(&threads, &new_ktid);
		if (!t)
			return true;
	} else {
		__sync_fetch_and_add(&t->seq, 1);
		for (__u32 k = 0; k < PCTX_MAX_COUNTERS; k++) {
			if (k >= ncounters)
				break;
			t->c[k].total = 0;
			t->c[k].observed = 0;
		}
		t->rt_observed = 0;
		__sync_fetch_and_add(&t->seq, 1);
	}
	/* The new image's runtime counts from rt, as the old one's ended there:
	 * its first slice's lag is measured from where rt was exact. */
	switch_in(t, &r, cpu, task, lag);
	return true;
}

#endif /* PCTX_COUNTERS_BPF_H */
