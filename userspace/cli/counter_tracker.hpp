// Counter readings for the rows: what each row shows, per-thread deltas
// between samples and the rotation of -c sets (a display choice). Process
// totals are the library's (Session::snapshot()). Reads through the
// session; knows nothing of output formats.
#pragma once

#include "cli/run_config.hpp"
#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pctx::cli {

class CounterTracker {
public:
    // Reads a thread's totals (a process's in an exit handler); may throw pctx::Error.
    using Reader = std::function<std::vector<CounterValue>(pid_t pid, pid_t tid)>;
    // Told once about the first reading that failed.
    using Complaint = std::function<void(const std::string& message)>;
    // A process's totals over all it did under trace, every image and
    // thread, as the session's snapshot has them; empty when unknown.
    using Totals = std::function<std::vector<std::uint64_t>(pid_t pid)>;

    CounterTracker(const CounterPlan& plan, Reader read, Complaint complain, Totals totals);

    bool enabled() const { return !names_.empty(); }
    const std::vector<std::string>& names() const { return names_; }

    // init_lwp: the thread starts from zero (a new thread, a new image, a capture).
    std::vector<CounterValue> thread_started(pid_t pid, pid_t tid);
    // fini_lwp: the thread's totals, now part of its process's.
    std::vector<CounterValue> thread_finished(pid_t pid, pid_t tid);
    // lwp_exit: the thread's totals again.
    std::vector<CounterValue> thread_totals(pid_t pid, pid_t tid);
    // exec: the old image's whole-process totals, when there are any.
    std::vector<CounterValue> exec_totals(pid_t pid, pid_t tid);
    // exit: the process's totals since its last exec, as the library counts them.
    std::vector<CounterValue> process_exit(pid_t pid, pid_t tid);

    struct Sample {
        std::optional<unsigned> set;      // several -c sets: which one this row shows, from 1
        std::vector<CounterValue> totals; // running totals of what the row shows
        std::vector<CounterValue> deltas; // their change since the thread's previous sample
    };
    // tick: ticks of one sampling round share time_ns; each round shows the next set.
    Sample tick(pid_t pid, pid_t tid, std::uint64_t time_ns);

    // The process's totals over all it did under trace, every image and
    // thread: those finished, plus the last reading of those alive. Zero
    // entries when never read.
    std::vector<std::uint64_t> process_totals(pid_t pid) const;
    // After its exit: the pid may come back as another process.
    void forget(pid_t pid);

private:
    using Values = std::vector<std::optional<std::uint64_t>>; // by names_ index
    using Previous = std::vector<std::uint64_t>;              // at the thread's last sample

    std::optional<Values> read(pid_t pid, pid_t tid, bool complain);
    std::vector<CounterValue> shown(const Values& values, const std::vector<bool>& mask) const;

    std::vector<std::string> names_;
    std::vector<std::vector<bool>> set_masks_; // per -c set (+ -t's counter): what a tick shows
    std::vector<bool> all_;
    Reader read_;
    Complaint complain_;
    Totals totals_;
    bool complained_ = false;
    std::map<std::pair<pid_t, pid_t>, Previous> threads_;
    std::optional<std::uint64_t> round_time_;
    unsigned round_ = 0;
};

} // namespace pctx::cli
