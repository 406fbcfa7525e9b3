/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel facts the lifecycle program depends on, across versions, in one
 * place. #defines are not in BTF, so the few it needs are copied here.
 *
 * - sched_process_exit moved earlier in do_exit() in Linux 6.16 (it gained its
 *   group_dead argument then). Before, it fires after exit_mm() has woken
 *   pthread_join(): a joined thread may still be exiting when its process's
 *   last thread exits, in either order. The program therefore never infers
 *   "the thread that ended the process" from the order of these hooks but
 *   from each exiting thread's own state:
 *   - killed (by exit_group(), a fatal signal, a core dump or another
 *     thread's exec): get_signal() set PF_SIGNALED on it;
 *   - the exit_group() caller: SIGNAL_GROUP_EXIT is set, the group's exit
 *     code is a status (exit_group() stores code << 8, where a signal's group
 *     exit stores the signal number), it is not killed, and no SIGKILL is
 *     pending for it. do_group_exit() sets flag and code and queues SIGKILL
 *     for every other thread not yet a zombie, in one locked step: a thread
 *     already inside do_exit() keeps that SIGKILL pending, which tells it
 *     apart from the caller.
 *   Linux 5.10 sets SIGNAL_GROUP_EXIT only when the process has other
 *   threads: a lone thread's exit_group() looks like a plain exit, which
 *   ends the process all the same. Two rare races stay ambiguous: since 6.0
 *   a last thread leaving by plain exit() also sets the flag, with no
 *   SIGKILL for a thread still inside do_exit(); and on 5.10 a SIGKILL sent
 *   to the caller itself hides it. An fentry on do_group_exit would be
 *   exact, but needs ftrace (locked down on some machines) and patches
 *   kernel text at every attach.
 */
#ifndef PCTX_CORE_FIXES_BPF_H
#define PCTX_CORE_FIXES_BPF_H

/* include/linux/sched.h: set by get_signal() on a thread a fatal signal,
 * a group exit or another thread's exec kills. Unchanged since 2.6. */
#define PCTX_PF_SIGNALED 0x00000400

/* include/linux/sched.h: a kernel thread. Unchanged since 2.6. */
#define PCTX_PF_KTHREAD 0x00200000

/* include/linux/sched/signal.h: unchanged since 2.6. */
#define PCTX_SIGNAL_GROUP_EXIT 0x00000004

/* SIGKILL (9) in sigset_t's first word, as sigaddset() sets it. */
#define PCTX_SIGKILL_BIT (1UL << (9 - 1))

#endif /* PCTX_CORE_FIXES_BPF_H */
