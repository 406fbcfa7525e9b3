// The agent's fold: per-thread counter deltas and lifecycle events summed
// into series, one per (cgroup, comm), or per (cgroup, comm, pid) with
// per_pid. A process that exits or execs leaves what it counted in the
// series it was in, so no series total ever goes back; series with no
// process left are dropped once idle for the ttl, and processes and threads
// are forgotten as they end, so memory follows what is alive, not what came
// and went. Not thread-safe: the agent serialises access.
#pragma once

#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace pctx::detail {

struct SeriesKey {
    std::string cgroup;
    std::string comm;
    pid_t pid = 0; // per_pid only
    bool operator<(const SeriesKey& o) const
    {
        return std::tie(cgroup, comm, pid) < std::tie(o.cgroup, o.comm, o.pid);
    }
};

struct SeriesTotals {
    std::string container_id;
    std::vector<std::uint64_t> counters; // by counter index, as the session names them
    std::uint64_t execs = 0;
    std::uint64_t forks = 0;
    std::uint64_t threads_created = 0;
    std::map<std::string, std::uint64_t> exits; // by status class
};

// What the exporter shows: a copy, made under the agent's lock.
struct FoldSnapshot {
    std::vector<std::string> counter_names;
    std::map<SeriesKey, SeriesTotals> series;
    std::uint64_t processes = 0;
    std::uint64_t threads = 0;
    LostCounts lost;
};

// "0", "non-zero", a signal's name ("SIGKILL"), or "unknown" (a lost exit record).
std::string exit_status_class(const ExitEvent& e);

class FoldModel {
public:
    using Clock = std::chrono::steady_clock;
    // Labels of a process as /proc shows them now; empty fields when gone.
    struct Labels {
        std::string cgroup;
        std::string comm;
    };
    using LabelReader = std::function<Labels(pid_t pid)>;

    FoldModel(std::vector<std::string> counter_names, bool per_pid, std::chrono::seconds ttl,
              LabelReader read_labels);

    // Thread events with the thread's counter totals (empty: none read).
    void thread_started(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals);
    void thread_ticked(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals);
    void thread_finished(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals);
    void thread_created(pid_t pid);
    void forked(pid_t parent, pid_t child);
    // After exec: comm (from the new image), the cgroup reread when it can be.
    void execed(pid_t pid, const std::string& comm);
    void exited(const ExitEvent& e);
    void lost(const LostCounts& total);

    // Forgets processes left without threads since the previous sweep (gone
    // out of the scope) and series idle past the ttl.
    void sweep(Clock::time_point now);
    FoldSnapshot snapshot() const;

    std::size_t processes() const { return processes_.size(); }
    std::size_t threads() const { return threads_.size(); }
    std::size_t series() const { return series_.size(); }

private:
    struct Process {
        SeriesKey key;
        std::size_t threads = 0;
        bool seen_since_sweep = true;
    };
    struct Series {
        SeriesTotals totals;
        std::size_t processes = 0;
        Clock::time_point last_active;
    };

    Process& process(pid_t pid);
    Series& join(Process& p, SeriesKey key, const std::string& container_id);
    void leave(const Process& p);
    Series& series_of(Process& p);
    void fold(Process& p, std::vector<std::uint64_t>& last,
              const std::vector<CounterValue>& totals);

    std::vector<std::string> names_;
    bool per_pid_;
    std::chrono::seconds ttl_;
    LabelReader read_labels_;
    std::unordered_map<pid_t, Process> processes_;
    std::map<std::pair<pid_t, pid_t>, std::vector<std::uint64_t>> threads_; // last readings
    std::map<SeriesKey, Series> series_;
    LostCounts lost_;
};

} // namespace pctx::detail
