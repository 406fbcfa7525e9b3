// The accounting model behind Session::snapshot(): every tracked process
// with its name, lifetime totals over every image and thread, and its live
// threads with their totals and deltas between ticks. Fed by the dispatcher
// with each event and the counter values it carries; read under one mutex,
// from handlers or from another thread while run() runs. No kernel in here:
// a unit test feeds it by hand.
#pragma once

#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace pctx::detail {

class Accounting {
public:
    // Counter values by the session's counter index (the kernel's layout).
    using Values = std::array<std::uint64_t, kMaxCounters>;
    // Names a process first seen without a fork or exec (a capture, a scope's
    // newcomer, a process whose fork record was lost): its /proc command line.
    using Namer = std::function<std::string(pid_t pid)>;
    // Past this many, the oldest ended processes not yet copied by a
    // snapshot are dropped: memory stays flat when nobody takes snapshots.
    static constexpr std::size_t kMaxEnded = 4096;

    explicit Accounting(Namer namer);

    // init_lwp: the thread starts from zero (a new thread, a new image, a
    // capture); at the start, so does its process.
    void thread_started(const LwpEvent& ev);
    // tick: a reading; the delta is taken against the thread's previous tick.
    void thread_read(const LwpEvent& ev, const Values& values);
    // fini_lwp: the thread's totals join its process's finished ones (an
    // uncounted thread's last reading does, its totals being unknown).
    void thread_ended(const LwpEvent& ev, const Values& values);
    // The child is named after its parent until it execs.
    void forked(const ForkEvent& ev);
    // argv becomes the name; the new image's threads start over through
    // init_lwp, the lifetime totals keep what the old image did.
    void execed(const ExecEvent& ev);
    // The process ends: it stays in the next snapshot, marked, then goes.
    void exited(const ExitEvent& ev);
    // The process was let go without an exit (left a scope, released at an
    // exec): marked ended like an exit, without a status.
    void released(pid_t pid, std::uint64_t time_ns);
    void set_lost(const LostCounts& lost);

    // A consistent copy; `counters` entries of each total. pid 0: every
    // process, and the ended ones copied are dropped from the model; else
    // that process only (the latest of that pid), nothing dropped.
    Snapshot snapshot(std::size_t counters, pid_t pid = 0);

private:
    struct Thread {
        bool counted = true;
        Values last{};     // the last reading (init_lwp: zero)
        Values previous{}; // at the previous tick
        Values delta{};    // last - previous, at the last tick
    };
    struct Process {
        pid_t pid = 0;
        pid_t ppid = 0;
        std::string command;
        bool named = false;
        std::uint64_t first_ns = 0;
        std::uint64_t last_ns = 0;
        std::optional<ExitEvent> exit; // ended by an exit
        bool released = false;         // ended without one
        Values finished{};             // threads ended, every image
        std::map<pid_t, Thread> threads;
    };

    // The live process pid, created (and named) at its first event.
    Process& live(pid_t pid, std::uint64_t time_ns);
    void end(pid_t pid, std::uint64_t time_ns, const std::optional<ExitEvent>& exit);
    static ProcessSnapshot copy(const Process& p, std::size_t counters);

    Namer namer_;
    mutable std::mutex mutex_;
    std::map<pid_t, Process> live_;
    std::deque<Process> ended_; // oldest first
    LostCounts lost_;
    std::uint64_t now_ns_ = 0; // the latest event's time
};

} // namespace pctx::detail
