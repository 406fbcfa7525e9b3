/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records the lifecycle program (lifecycle.bpf.c) sends to userspace, and the
 * tracked-process map both sides write. Plain C: included by BPF and C++.
 */
#ifndef PCTX_BPF_LIFECYCLE_H
#define PCTX_BPF_LIFECYCLE_H

#ifndef __VMLINUX_H__ /* userspace: BPF gets these from vmlinux.h */
#include <linux/types.h>
#endif

/* Bytes of argv captured at exec; the record says when it was cut. */
#define PCTX_ARGS_MAX 4096

/* Counters a session can request at once. */
#define PCTX_MAX_COUNTERS 8

enum pctx_record_type {
	PCTX_REC_FORK = 1,   /* a followed process forked: child is the new pid */
	PCTX_REC_THREAD = 2, /* a tracked process created a thread: child is the tid */
	PCTX_REC_EXEC = 3,   /* child is the exec'ing thread's tid before exec (0: unknown) */
	PCTX_REC_EXIT = 4,   /* one thread ended; flags say whether the process did */
	/* A process joined the session's scope (see pctx_scope_kind): born there
	 * to a parent outside it, or moved into its cgroup (PCTX_ENTER_MOVED:
	 * its threads are not counted yet). pid is the process. */
	PCTX_REC_ENTER = 5,
	/* A process moved out of the scope's cgroup: no longer tracked. */
	PCTX_REC_LEAVE = 6,
};

/* What a session follows besides the processes it starts or captures. */
enum pctx_scope_kind {
	PCTX_SCOPE_NONE = 0,
	PCTX_SCOPE_CGROUP = 1, /* every process of a cgroup v2 subtree */
	PCTX_SCOPE_ALL = 2,    /* every process the tracer's pid namespace sees */
};

/* Values of the tracked map: how each process is followed. */
#define PCTX_TRACK_FOLLOW_FORK (1U << 0)
#define PCTX_TRACK_STOP_AT_EXEC (1U << 1)
/* The spawned command has not exec'd yet: that exec never ends tracking. */
#define PCTX_TRACK_FIRST_EXEC (1U << 2)
/* Its last thread has exited; threads still inside exit() may follow. */
#define PCTX_TRACK_DEAD (1U << 3)
/* Tracked for being in the scope: its children are tracked while in it. */
#define PCTX_TRACK_SCOPED (1U << 4)

/* Record flags. */
#define PCTX_EXIT_GROUP_DEAD (1U << 0) /* last thread: the process is gone */
#define PCTX_EXIT_ZAPPED (1U << 1)     /* killed by exit_group, a fatal signal or an exec */
#define PCTX_EXIT_CALLER (1U << 6)     /* the thread that called exit_group() */
#define PCTX_EXIT_GROUP_EXIT (1U << 7) /* the process is ending by exit_group() or a signal */
#define PCTX_EXEC_UNTRACKED (1U << 2)  /* stop-at-exec: the process is no longer tracked */
#define PCTX_EXEC_TRUNCATED (1U << 3)  /* argv was longer than PCTX_ARGS_MAX */
#define PCTX_FORK_UNTRACKED (1U << 4)  /* tracked map full: the child is not followed */
#define PCTX_EXEC_FIRST (1U << 5)      /* the spawned command's own exec */
/* Counters are on, but the thread has no counter entry (the counted-thread
 * map was full): fork and thread records say it of the new thread, exec and
 * exit records of the thread they end, whose values are then not counts. */
#define PCTX_REC_UNCOUNTED (1U << 8)
#define PCTX_ENTER_MOVED (1U << 9)   /* moved into the cgroup, not born there */
#define PCTX_FORK_OUTSIDE (1U << 10) /* born outside the scope: not followed, not a loss */

/*
 * Wakeup batching. A record wakes the consumer only if none did in the last
 * PCTX_WAKEUP_INTERVAL_NS (or the ring is a quarter full); a consumer that
 * found records polls again after that interval, so none waits longer. Sparse
 * events arrive at once; a burst costs one wakeup per interval, not per record.
 */
#define PCTX_WAKEUP_INTERVAL_NS 10000000ULL

/*
 * A tracked process. BPF removes the entry when the process's last thread
 * exits, unless other threads are still inside exit(): on kernels before
 * 6.16, sched_process_exit fires after pthread_join() has returned, so a
 * joined thread can still be exiting when the main thread's exit ends the
 * process, and its record must still be sent. Such an entry is marked
 * PCTX_TRACK_DEAD; the last of those threads removes it, or else userspace
 * once the process's exit is delivered. A fork always replaces an entry
 * left under the child's pid (a live process cannot share it), and
 * start_time (the leader's, filled on first sight) tells any other new
 * process that reused the pid apart.
 */
struct pctx_tracked {
	__u32 flags;
	__u32 pad; /* named: the layout is shared with userspace */
	__u64 start_time;
};

/* Pids and tids are as the loader's pid namespace sees them. */
struct pctx_record {
	__u32 type;
	__u32 flags;
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__s32 pid;
	__s32 tid;
	__s32 child;
	__s32 code;	/* exit: the kernel's wait status (exit_code) */
	__u32 args_len; /* exec: bytes of NUL-separated argv after the header */
	__u32 reserved;
	/* exec: the exec'ing thread's totals in the old image; exit: the exiting
	 * thread's final totals (zero when no counters are requested). */
	__u64 values[PCTX_MAX_COUNTERS];
};

/* An exec record: the header, then args_len bytes of argv (sent trimmed). */
struct pctx_exec_record {
	struct pctx_record hdr;
	char args[PCTX_ARGS_MAX];
};

/*
 * Counter state of one tracked thread (threads map, keyed by the kernel's
 * tid). At each switch-in BPF records the current CPU's counters in start; at
 * switch-out it adds the difference, scaled by enabled/running time when the
 * PMU multiplexed, to total. seq is odd while BPF updates the entry, so
 * userspace can read it without a lock.
 *
 * Some kernels do not fire sched_switch for every switch (this project's
 * 6.18 build skips a few percent). The scheduler's own se.sum_exec_runtime,
 * exact at every switch, shows what was missed: runtime between the last
 * switch-out seen and the next switch-in seen. Time counters are that runtime
 * itself (see switch_out() in counters.bpf.h); other counters get the missed
 * part back at the thread's own observed rate.
 *
 * The map stores only the counters requested: its values end after
 * c[ncounters - 1] (PCTX_THREAD_SIZE), so a tick copies 128 bytes a thread
 * for two counters, not 320.
 */
struct pctx_counter_state {
	__u64 total;
	/* Of total, what was read at both ends of a slice: the rate at which
	 * hidden runtime is made up for, never scaled itself. */
	__u64 observed;
	__u64 start; /* the CPU's counter at the last switch-in seen */
	__u64 start_enabled;
	__u64 start_running;
};

struct pctx_thread {
	__u32 seq;
	__u32 cpu; /* the CPU it runs on, when on_cpu; PCTX_CPU_SEEDED before
		    * a seeded thread's first switch */
	__u32 on_cpu;
	__s32 pid; /* loader's view */
	__s32 tid;
	__u32 start_valid;   /* bit k: c[k].start was read (a read can fail) */
	__u64 rt_in;	     /* se.sum_exec_runtime at the last switch-in seen */
	__u64 rt_last_out;   /* ... at the last switch-out seen (or start) */
	__u64 rt_observed;   /* runtime of the slices seen in full */
	__u64 ktime_in;	     /* bpf_ktime_get_ns() at the last switch-in seen */
	__u64 exec_start_in; /* se.exec_start then */
	struct pctx_counter_state c[PCTX_MAX_COUNTERS];
};

/* A thread seeded (already alive when counting began) and not yet seen to
 * switch: its first switch-out may end a slice begun before the seed. */
#define PCTX_CPU_SEEDED 0xffffffffU

/* Bytes of a threads-map value holding n counters. */
#define PCTX_THREAD_SIZE(n)                                                                        \
	(__builtin_offsetof(struct pctx_thread, c) + (n) * sizeof(struct pctx_counter_state))

/*
 * What the sampling iterator writes for each counted thread: this header,
 * then the thread's entry (PCTX_THREAD_SIZE(ncounters) bytes), copied in
 * the kernel between two equal even seq readings, so never torn.
 */
struct pctx_sample {
	__u32 ktid;
	__u32 pad;
	/* se.sum_exec_runtime now: what the scheduler has accounted, never more
	 * than the thread will have run at its next switch-out. */
	__u64 rt_now;
};

/*
 * What BPF could not do, by kind, counted per CPU; userspace sums and reports
 * them. The first five are records the ring buffer had no room for, by the
 * event they carried (an exit record is "exit" when it ended the process,
 * "lwp_exit" otherwise); the last two are map updates that failed.
 */
enum pctx_loss_kind {
	PCTX_LOSS_FORK,
	PCTX_LOSS_LWP_CREATE,
	PCTX_LOSS_EXEC,
	PCTX_LOSS_EXIT,
	PCTX_LOSS_LWP_EXIT,
	PCTX_LOSS_TRACKED_FULL, /* tracked map full: a forked child not followed */
	PCTX_LOSS_THREADS_FULL, /* threads map full: a thread not counted */
	PCTX_LOSS_KINDS,
};

struct pctx_stats {
	__u64 lost[PCTX_LOSS_KINDS];
	/* Context switches of counted threads the kernel did not report (see
	 * struct pctx_thread): each leaves a slice whose counters, other than
	 * time, are made up at the thread's observed rate. Not a lost record. */
	__u64 unseen_switches;
};

#endif /* PCTX_BPF_LIFECYCLE_H */
