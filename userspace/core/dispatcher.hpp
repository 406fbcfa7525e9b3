// Turns the kernel's lifecycle records into libpctx's events, in libpctx's
// order, and keeps the model of which processes and threads are alive that
// ticks and fini_lwp need.
#pragma once

#include "lifecycle.h"
#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <array>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace pctx::detail {

// Counter totals, as the kernel sends them.
using CounterValues = std::array<std::uint64_t, PCTX_MAX_COUNTERS>;
// Every counted thread's totals now, keyed by thread_key(pid, tid).
using CounterSnapshot = std::unordered_map<std::uint64_t, CounterValues>;

inline std::uint64_t thread_key(pid_t pid, pid_t tid)
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
           static_cast<std::uint32_t>(tid);
}

// Sees each event, with the counter values it carries, just before its
// handler is called, whether or not the user set one: the session's
// accounting, and whatever else must follow the event stream.
class DispatchObserver {
public:
    enum class Lwp { Init, Fini, Create, Exit, Tick };
    DispatchObserver() = default;
    DispatchObserver(const DispatchObserver&) = delete;
    DispatchObserver& operator=(const DispatchObserver&) = delete;
    virtual ~DispatchObserver() = default;
    virtual void lwp(Lwp /*kind*/, const LwpEvent& /*ev*/, const CounterValues& /*values*/) {}
    virtual void fork(const ForkEvent& /*ev*/) {}
    // values: the old image's whole-process totals.
    virtual void exec(const ExecEvent& /*ev*/, const CounterValues& /*values*/) {}
    virtual void exit(const ExitEvent& /*ev*/, const CounterValues& /*values*/) {}
    // The process is let go without an exit (it left the scope, or was
    // released at an exec): nothing more of it follows.
    virtual void released(pid_t /*pid*/, std::uint64_t /*time_ns*/) {}

protected:
    DispatchObserver(DispatchObserver&&) = default;
    DispatchObserver& operator=(DispatchObserver&&) = default;
};

class Dispatcher {
public:
    // forget(pid) is called once a process's last record has been handled,
    // so whatever entry BPF left for it can go.
    Dispatcher(const Handlers& handlers, std::function<void(pid_t)> forget)
        : handlers_(handlers), forget_(std::move(forget))
    {
    }

    // The counter values that belong to the event being delivered now: a
    // thread's for thread events, the process's for exec and exit. False
    // when no event of (pid, tid) is being delivered, or its thread is not
    // counted.
    bool counters_of(pid_t pid, pid_t tid, CounterValues& out) const;

    // Called in the order added; each must outlive the dispatcher's use.
    void add_observer(DispatchObserver* observer) { observers_.push_back(observer); }

    // A spawned command, tracked but not yet exec'd: it gets exec then init_lwp.
    void add_spawned(pid_t pid, std::uint64_t now_ns);
    // A captured process: init_lwp for each thread it has now; those in
    // uncounted have no counter entry.
    // at_start: found at the start (a capture), not joining later (a scope's
    // newcomer).
    void add_captured(pid_t pid, const std::vector<pid_t>& tids, const std::set<pid_t>& uncounted,
                      std::uint64_t now_ns, bool at_start = true);
    bool knows(pid_t pid) const { return procs_.count(pid) != 0; }
    // A process that left the scope: fini_lwp for each thread, with the
    // totals found for it (none: uncounted), then it is forgotten; a late
    // record of it is dropped.
    void leave(pid_t pid, const std::map<pid_t, CounterValues>& totals, std::uint64_t now_ns);
    // A process (re)joining: records of it count again.
    void rejoin(pid_t pid) { reconciled_.erase(pid); }

    void dispatch(const pctx_record& rec, std::size_t size);
    // tick for every live thread of every tracked process. With counters, a
    // counted thread missing from the snapshot has exited, its record on its
    // way: no tick, its fini_lwp follows. An uncounted thread's tick says so.
    void tick_all(std::uint64_t now_ns, const CounterSnapshot* snapshot);
    // After a loss: a process found gone gets fini_lwp for the threads it
    // had and its exit, marked reconciled; a thread found gone, fini_lwp.
    // Found gone means gone for longer than a record can be in flight
    // (kInFlightNs): a younger death is only noted. True while some are
    // noted, so that the caller reconciles again.
    bool reconcile(std::uint64_t now_ns);
    static constexpr std::uint64_t kInFlightNs = 3 * PCTX_WAKEUP_INTERVAL_NS;

    bool empty() const { return procs_.empty(); }
    void set_root(pid_t pid) { root_ = pid; }
    // The time to give an event happening at time_ns: never before the last
    // one delivered (see now_).
    std::uint64_t advance(std::uint64_t time_ns);
    const std::optional<ExitEvent>& root_exit() const { return root_exit_; }

private:
    struct Process {
        std::vector<pid_t> threads;      // in the order they were seen
        std::set<pid_t> uncounted;       // of them, those without counters
        std::uint64_t first_seen_ns = 0; // its first event here: it started no later
        bool awaiting_first_exec = false;
        CounterValues finished{}; // totals of its threads that ended, since the last exec
        // Its last thread has exited, but records of threads that exited
        // earlier are still to come (see pctx_tracked): exit waits for them.
        std::optional<ExitEvent> dying;
        // The thread that called exit_group(), in whichever record order:
        // exit names it rather than the last thread to finish.
        pid_t exit_caller = 0;
    };

    // What counters_of() answers while one handler runs.
    struct Context {
        bool active = false;
        bool whole_process = false;
        bool counted = true;
        pid_t pid = 0;
        pid_t tid = 0;
        CounterValues values{};
    };
    template <typename Fn, typename Ev>
    void deliver(const Fn& fn, const Ev& ev, bool whole_process, const CounterValues& values);
    // A thread event of proc's thread tid, with its counted mark.
    void deliver_lwp(DispatchObserver::Lwp kind, const Process& proc, pid_t pid, pid_t tid,
                     std::uint64_t time_ns, const CounterValues& values, bool at_start = false);
    // A process whose exit record was lost: fini_lwp for what it had, then
    // its exit, marked reconciled.
    void end_reconciled(std::map<pid_t, Process>::iterator it);

    // Gone, or its pid now names a process that started after this one was seen.
    bool gone(pid_t pid, const Process& proc) const;
    // A record from a process BPF follows but whose fork record was lost.
    void adopt_if_unknown(const pctx_record& rec);
    void on_thread(const pctx_record& rec);
    void on_fork(const pctx_record& rec);
    void on_exec(const pctx_record& rec, std::size_t size);
    void on_exit(const pctx_record& rec);
    // fini_lwp for every thread; the one whose totals are known gets them.
    void fini_all(pid_t pid, Process& proc, std::uint64_t time_ns, pid_t known_tid,
                  const CounterValues& known);
    void report(const std::string& message) const;

    // Delivers exit and forgets the process once no thread record is owed.
    void finish_if_done(std::map<pid_t, Process>::iterator it);

    // The user's handler for a kind of thread event.
    const std::function<void(const LwpEvent&)>& handler(DispatchObserver::Lwp kind) const;
    void released(pid_t pid);

    const Handlers& handlers_;
    std::vector<DispatchObserver*> observers_;
    std::function<void(pid_t)> forget_;
    // reconcile(): when each process or thread (thread_key) was first found gone.
    std::unordered_map<std::uint64_t, std::uint64_t> gone_since_;
    // Processes ended by reconcile(): a late record of theirs is dropped.
    std::set<pid_t> reconciled_;
    std::map<pid_t, Process> procs_;
    pid_t root_ = 0;
    std::optional<ExitEvent> root_exit_;
    Context context_;
    // Events' time: each record's, never before the last one delivered. The
    // ring holds records in the order they were reserved, but each took its
    // time just before, on its own CPU: two CPUs can swap by a microsecond.
    std::uint64_t now_ = 0;
};

} // namespace pctx::detail
