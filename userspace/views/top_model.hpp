// The numbers behind `pctx-bpf top`: processes and threads with their
// counters' totals, turned at each refresh into rates over the time since the
// last one; marks for those born since then and those that exited (kept for
// one refresh); sorting and filtering of the rows. Fed by a session's events
// (see top_feed.hpp), it knows nothing of sessions, terminals or text.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pctx::detail {

// What a column of rates shows for a counter.
enum class RateKind {
    CpuPercent, // task-clock or cpu-clock: nanoseconds of CPU per second, as a percentage
    PerSecond,  // any other counter: events per second
    Ipc,        // instructions / cycles, a column of its own when both count
};

struct RateColumn {
    std::string title; // "CPU%", "CSW/s", "IPC"
    RateKind kind = RateKind::PerSecond;
    std::size_t counter = 0; // index in the counters (Ipc: the instructions)
    std::size_t cycles = 0;  // Ipc only: the cycles
};

// The rate columns for counters named as Session::counter_names() gives them.
std::vector<RateColumn> rate_columns(const std::vector<std::string>& counter_names);

// One process or thread as a refresh saw it.
struct TopRow {
    pid_t pid = 0;
    pid_t tid = 0; // 0 in a process row
    std::string user;
    std::string command;
    std::vector<double> rates;      // one per rate column
    std::uint64_t lifetime_ns = 0;  // since it started, up to the refresh (or its exit)
    bool is_new = false;            // started since the previous refresh
    bool exited = false;            // ended since the previous refresh: shown once more
    std::optional<int> wait_status; // a process's exit, as waitpid(2) tells it
    bool ran = false;               // counted something since the previous refresh
    bool pending = false;           // born after the last refresh: no rates yet
    std::string state() const;      // "new", "run", "sleep", "exit 3", "SIGKILL"
};

// What happened between two refreshes, machine-wide as far as the session sees.
struct TopTotals {
    double execs_per_s = 0;
    double forks_per_s = 0;
    double exits_per_s = 0;
    std::uint64_t lost = 0; // events the kernel could not deliver, this session
    std::size_t processes = 0;
    std::size_t threads = 0;
};

// Which rows, in which order.
struct TopView {
    bool threads = false;   // one row per thread instead of per process
    std::size_t sort = 0;   // column index in top_columns()
    bool ascending = false; // numbers largest first unless asked
    std::string filter;     // a substring of the command; empty: all
};

// The columns rows are shown and sorted by: PID, [TID], USER, the rate
// columns, LIFE, STATE, COMMAND.
std::vector<std::string> top_columns(const std::vector<RateColumn>& rates, bool threads);

class TopModel {
public:
    explicit TopModel(std::vector<std::string> counter_names, std::uint64_t start_ns);

    const std::vector<RateColumn>& columns() const { return columns_; }
    const std::vector<std::string>& counter_names() const { return counter_names_; }

    // Events, in the session's order. values: the counters' totals, in the
    // order of counter_names (empty when not read).
    void thread_start(pid_t pid, pid_t tid, std::uint64_t time_ns);
    void thread_values(pid_t pid, pid_t tid, const std::vector<std::uint64_t>& values);
    void thread_end(pid_t pid, pid_t tid, std::uint64_t time_ns);
    void fork(pid_t parent, pid_t child, std::uint64_t time_ns);
    void exec(pid_t pid, const std::string& command, std::uint64_t time_ns);
    void exit(pid_t pid, int wait_status, std::uint64_t time_ns);
    void set_lost(std::uint64_t lost) { lost_ = lost; }
    // Who a process is, for one first seen without a fork (captured, or
    // seen before its fork): normally read from /proc by the feed.
    void describe(pid_t pid, const std::string& user, const std::string& command,
                  std::uint64_t start_ns);
    bool knows(pid_t pid) const { return procs_.count(pid) != 0; }
    // The processes alive now.
    std::vector<pid_t> live_pids() const;

    // Closes the interval that ends at now_ns: rates since the previous
    // refresh, those that exited before it dropped, marks reset.
    void refresh(std::uint64_t now_ns);

    // The rows of the last refresh, filtered and sorted as view says, and
    // (process rows only) those born since, pending, with no rates yet.
    std::vector<TopRow> rows(const TopView& view) const;
    const TopTotals& totals() const { return totals_; }
    std::uint64_t refreshed_ns() const { return last_ns_; }

private:
    struct Thread {
        std::uint64_t start_ns = 0;
        std::vector<std::uint64_t> now;  // latest totals
        std::vector<std::uint64_t> then; // totals at the previous refresh
        bool is_new = true;
        bool ended = false;
        std::uint64_t end_ns = 0;
        TopRow row; // as of the last refresh
    };
    struct Process {
        std::string user;
        std::string command;
        std::uint64_t start_ns = 0;
        bool is_new = false;
        bool exited = false;
        std::uint64_t end_ns = 0;
        std::optional<int> wait_status;
        std::map<pid_t, Thread> threads;
        // Counted by threads that ended since the previous refresh (an exec
        // ends them all), so a process's rate keeps what they did.
        std::vector<std::uint64_t> ended_delta;
        TopRow row;
    };

    Process& process(pid_t pid, std::uint64_t time_ns);
    std::vector<double> rates_of(const std::vector<std::uint64_t>& delta, double seconds) const;

    std::vector<std::string> counter_names_;
    std::vector<RateColumn> columns_;
    std::map<pid_t, Process> procs_;
    std::uint64_t last_ns_ = 0;
    bool refreshed_once_ = false;
    std::uint64_t lost_ = 0;
    std::uint64_t execs_ = 0;
    std::uint64_t forks_ = 0;
    std::uint64_t exits_ = 0;
    TopTotals totals_;
};

} // namespace pctx::detail
