// The summary on stderr at the end of a run: each process's command, lifetime,
// how it ended and its counter totals; events lost; the tracer's own CPU time.
#pragma once

#include "cli/output/writer.hpp"

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

class Summary {
public:
    // stop_at_exec: a process that execs (not as its first event) is released there.
    Summary(std::vector<std::string> counter_names, bool stop_at_exec);

    // Every row, in order (whether or not it is printed).
    void record(const Row& row);
    // The totals to report for pid's exit, given before its exit row is recorded.
    void set_exit_totals(pid_t pid, std::vector<std::uint64_t> totals);

    struct Ending {
        std::uint64_t end_ns = 0;          // when the run ended
        LostCounts lost;                   // what the session counted as lost, by kind
        std::uint64_t unseen_switches = 0; // see Session::unseen_switches()
        const char* unfinished = ""; // how a process still traced ends: "killed", "left running"
        // Totals of a process still traced at the end, or released at an exec.
        std::function<std::vector<std::uint64_t>(pid_t)> live_totals;
    };
    void print(std::FILE* out, const Ending& ending) const;

private:
    struct Process {
        pid_t pid = 0;
        std::string command;
        std::uint64_t first_ns = 0;
        std::uint64_t last_ns = 0;
        std::string end; // "status 3", "signal 9", "released at exec"; empty while traced
        std::vector<std::uint64_t> totals;
    };

    std::vector<std::string> counters_;
    bool stop_at_exec_;
    // By order of appearance. Past the ones listed one by one, a process
    // that ends is folded into folded_ and forgotten: memory stays flat
    // however many come and go.
    std::map<std::size_t, Process> processes_;
    std::size_t seen_ = 0; // processes ever seen
    struct Folded {
        std::vector<std::uint64_t> totals;
        std::uint64_t first_ns = UINT64_MAX;
        std::uint64_t last_ns = 0;
    } folded_;
    void fold(std::size_t n);
    std::map<pid_t, std::size_t> live_;
    std::map<pid_t, std::vector<std::uint64_t>> exit_totals_;
    std::uint64_t lost_rows_ = 0;
};

} // namespace pctx::cli
