/*
 * pctx-bpf: libpctx's process-context API on Linux, driven by BPF.
 *
 * Names, types and semantics follow illumos libpctx(3LIB):
 *   pctx_create() starts a command, pctx_capture() takes a running process,
 *   pctx_set_events() installs the callbacks, pctx_run() delivers events and
 *   timed samples, pctx_release() lets go (killing what pctx_create started).
 *
 * Linux differences, all deliberate:
 * - pid_t/id_t carry Linux pids and tids as the caller's pid namespace sees
 *   them; an LWP id is a thread id (tid), not a small per-process number.
 * - Nobody is stopped: events are observed in the kernel and delivered in
 *   order, so a process runs on while its callbacks execute.
 * - The fork handler is called as libpctx called it, fork(pctx, ppid,
 *   childpid, lwpid, arg), whatever libpctx's own typedef named the arguments.
 *   Setting a fork handler follows children, all in this one process.
 * - The exit handler's status is the exit(2) value (0-255) of a process that
 *   exited, and minus the signal number (-9 for SIGKILL) of one killed by a
 *   signal; libpctx never reported signal deaths.
 * - Without an exec handler, a process that execs is released at that exec
 *   (its threads get fini_lwp first), as libpctx did; the first exec of a
 *   command started by pctx_create() is always delivered and never releases.
 *   These two rules are fixed by the handlers set at the first pctx_run();
 *   pctx_set_events() between runs changes the handlers called, not which
 *   processes are followed.
 * - As in libpctx, a non-zero return from init_lwp, lwp_create, exec or a
 *   tick ends the run and nothing more is called (no lwp_create after a
 *   refusing init_lwp, no init_lwp after a refusing exec); the returns of
 *   fini_lwp and lwp_exit are ignored; an init_lwp of the start (the first
 *   threads of a capture or of the command's first image) that returns
 *   non-zero makes pctx_run() return -1.
 * - Nothing is lost silently: records the kernel could not deliver are
 *   reported through errfn whatever verbose says, and counted by
 *   pctx_lost().
 * - pctx_run() and pctx_release() refuse to be called from a handler
 *   (errfn, and -1 from pctx_run()); every function refuses a NULL handle.
 */
#ifndef PCTX_LIBPCTX_H
#define PCTX_LIBPCTX_H

#include <pctx/export.h>
#include <stdarg.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pctx_handle pctx_t;

typedef enum {
	PCTX_NULL_EVENT = 0,
	PCTX_SYSC_EXEC_EVENT,
	PCTX_SYSC_FORK_EVENT,
	PCTX_SYSC_EXIT_EVENT,
	PCTX_SYSC_LWP_CREATE_EVENT,
	PCTX_INIT_LWP_EVENT,
	PCTX_FINI_LWP_EVENT,
	PCTX_SYSC_LWP_EXIT_EVENT
} pctx_event_t;

/* Handlers returning int end the run when they return non-zero. */
typedef int pctx_sysc_execfn_t(pctx_t *, pid_t, id_t, char *, void *);
typedef void pctx_sysc_forkfn_t(pctx_t *, pid_t, pid_t, id_t, void *);
typedef void pctx_sysc_exitfn_t(pctx_t *, pid_t, id_t, int, void *);
typedef int pctx_sysc_lwp_createfn_t(pctx_t *, pid_t, id_t, void *);
typedef int pctx_init_lwpfn_t(pctx_t *, pid_t, id_t, void *);
typedef int pctx_fini_lwpfn_t(pctx_t *, pid_t, id_t, void *);
typedef int pctx_sysc_lwp_exitfn_t(pctx_t *, pid_t, id_t, void *);
typedef void pctx_errfn_t(const char *fn, const char *fmt, va_list ap);

/* NULL errfn: messages go to stderr as "libpctx: pctx_<fn>: <message>". */
PCTX_API pctx_t *pctx_create(const char *filename, char *const *argv, void *arg, int verbose,
		    pctx_errfn_t *errfn);
PCTX_API pctx_t *pctx_capture(pid_t pid, void *arg, int verbose, pctx_errfn_t *errfn);
PCTX_API int pctx_set_events(pctx_t *pctx, ...);

/*
 * A pctx-bpf addition: every process of the cgroup v2 subtree at cgroup_path
 * (a directory under the cgroup2 mount; NULL: every process of the machine),
 * those in it now (init_lwp at the first pctx_run()) and every one born or
 * moved into it later; one moved out gets fini_lwp for its threads and is
 * let go. Kernel threads and this process are never traced. The scope, not
 * the handlers set, decides what is followed: children and execs always
 * are. pctx_run() then goes on until a handler returns non-zero,
 * pctx_terminate() or its sample count.
 */
PCTX_API pctx_t *pctx_watch(const char *cgroup_path, void *arg, int verbose, pctx_errfn_t *errfn);

/*
 * Runs until the tracked processes are gone (0), a handler returns non-zero
 * (0), pctx_terminate() is called (0), or control is lost (-1). msec == 0:
 * events only; nsamples == 0: no limit on ticks.
 */
PCTX_API int pctx_run(pctx_t *pctx, unsigned int msec, unsigned int nsamples,
	     int (*tick)(pctx_t *, pid_t, id_t, void *));

/*
 * Per-thread counters, counted in the kernel at every context switch (a
 * pctx-bpf addition standing in for libcpc's binding). spec names perf
 * events, comma-separated, at most 8: "cpu-clock,page-faults,instructions:u",
 * raw "r01c2". Call before pctx_run(); 0, or -1 after errfn names the event
 * that cannot be counted here and what can.
 */
PCTX_API int pctx_set_counters(pctx_t *pctx, const char *spec);

/*
 * Sizes (a pctx-bpf addition): the kernel's ring buffer in bytes (rounded up
 * to a power of two, a page at least) and the processes tracked and threads
 * counted at once; 0 keeps the default (4 MiB, 16384). Before pctx_run();
 * it reloads the BPF program. 0, or -1 after errfn.
 */
PCTX_API int pctx_set_limits(pctx_t *pctx, size_t ringbuf_bytes, unsigned int max_tasks);

/*
 * From a tick, init_lwp, fini_lwp, lwp_exit or exec handler: the totals of
 * (pid, tid) so far, in the order requested (exec: the old image's, whole
 * process); from an exit handler: the process's totals. Returns how many
 * values were written (at most nvalues), or -1 outside such a handler.
 */
PCTX_API int pctx_read_counters(pctx_t *pctx, pid_t pid, id_t tid, unsigned long long *values,
				int nvalues);

/*
 * What the kernel could not do so far, by kind (a pctx-bpf addition: libpctx
 * stopped the target instead, and lost nothing). The first five count events
 * whose record found the kernel's ring buffer full; tracked_full counts
 * forked children not followed, threads_full threads not counted (their
 * maps were full). Returns 0, or -1 after errfn.
 */
typedef struct {
	unsigned long long fork;
	unsigned long long lwp_create;
	unsigned long long exec;
	unsigned long long exit;
	unsigned long long lwp_exit;
	unsigned long long tracked_full;
	unsigned long long threads_full;
} pctx_lost_t;
PCTX_API int pctx_lost(pctx_t *pctx, pctx_lost_t *lost);

/* Makes a running pctx_run() return 0. Safe from a signal handler. */
PCTX_API void pctx_terminate(pctx_t *pctx);

PCTX_API void pctx_release(pctx_t *pctx);

#ifdef __cplusplus
}
#endif

#endif /* PCTX_LIBPCTX_H */
