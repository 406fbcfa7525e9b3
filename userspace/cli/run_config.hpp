// What `pctx-bpf run` was asked to do, once its options are parsed and checked.
#pragma once

#include "cli/output/writer.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

// The counters asked for: -c sets (several rotate, one a sample) and -t's.
// All of them are counted all the time; a set only chooses what a tick row shows.
struct CounterPlan {
    std::vector<std::vector<std::string>> sets; // one per -c, in order
    std::optional<std::string> tick;            // -t: "cycles" or "task-clock"

    // Every -c counter once, in order of first appearance.
    std::vector<std::string> set_union() const;
    // set_union(), then -t's counter unless already there: what is counted.
    std::vector<std::string> all() const;
    bool empty() const { return sets.empty() && !tick; }
};

struct RunConfig {
    std::vector<std::string> command;         // spawn this, or
    std::vector<pid_t> pids;                  // capture these
    pid_t pidns = 0;                          // --pidns: report ids as this pid's namespace does
    std::string cgroup;                       // --cgroup: every process of this subtree, and
    bool system_wide = false;                 // -a: every process of the machine
    std::vector<std::string> probes;          // --probe: USDT probes to enable, provider:name
    bool follow_forks = false;                // -f
    bool stop_at_exec = false;                // --stop-at-exec
    bool show_lwp_rows = false;               // -v
    bool header = true;                       // -n: false
    bool quiet = false;                       // -q: no summary
    bool debug = false;                       // --debug: libbpf's own messages
    std::chrono::milliseconds interval{1000}; // -T; 0: no ticks
    unsigned nsamples = 0;                    // -N; 0: no limit
    Format format = Format::Text;
    std::string output_path; // -o; empty: stdout
    std::string plot_path;   // --plot; empty: no picture
    CounterPlan counters;
    std::optional<std::size_t> ring_buffer_bytes; // --ringbuf-size; none: the library's
    std::optional<std::uint32_t> max_tasks;       // --max-tasks; none: the library's
};

} // namespace pctx::cli
