// A timeline of processes built from recorded events (the rows of `pctx-bpf
// run --format json`): one lane per process, its images (fork, then each
// exec), how it ended and the CPU time its threads used, span by span.
// Knows nothing of files or drawing.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pctx::detail {

// As much of one recorded row as a timeline uses.
struct TimelineEvent {
    std::string event; // init_lwp, fini_lwp, exec, fork, exit, lwp_create, lwp_exit, tick, lost
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0;
    std::optional<pid_t> child_pid;      // fork
    std::vector<std::string> args;       // exec: the new image's argv
    std::optional<int> status;           // exit
    std::optional<int> signal;           // exit
    std::optional<std::uint64_t> cpu_ns; // the row's task-clock (else cpu-clock) running total
};

// What a process ran from start_ns on: what it inherited at fork, then each exec's.
struct TimelineImage {
    std::uint64_t start_ns = 0;
    std::string name; // the command line; empty when the recording never said
};

// CPU time one thread of the process used between two of its rows.
struct CpuSpan {
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    std::uint64_t cpu_ns = 0;
};

struct TimelineLane {
    pid_t pid = 0;
    std::optional<std::size_t> parent; // index of the parent's lane, if recorded
    unsigned depth = 0;                // 0 for a root, parent's depth + 1 otherwise
    std::uint64_t start_ns = 0;        // its fork, or when the recording first saw it
    std::uint64_t end_ns = 0;          // its exit, or the recording's end
    std::optional<int> status;         // empty: still alive when the recording ended
    int signal = 0;                    // the killing signal, 0 for a normal exit
    std::vector<TimelineImage> images; // at least one, in time order
    std::vector<CpuSpan> cpu;
};

struct Timeline {
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    // Depth first: each process right under its parent, siblings in fork order.
    std::vector<TimelineLane> lanes;
    bool has_cpu = false; // some row carried task-clock or cpu-clock
};

class TimelineBuilder {
public:
    // Rows must come in the order they were recorded.
    void add(const TimelineEvent& event);
    std::size_t events() const { return events_; }
    Timeline build() const;

private:
    struct Process {
        TimelineLane lane;
        std::optional<std::size_t> parent; // index in processes_
        std::vector<std::size_t> children; // indices in processes_, in fork order
    };
    struct Thread {
        std::size_t process = 0;
        std::uint64_t last_ns = 0;
        std::uint64_t last_cpu = 0;
    };

    std::size_t process_of(pid_t pid, std::uint64_t time_ns);
    void account_cpu(const TimelineEvent& event, std::size_t process);

    std::vector<Process> processes_;       // in the order first seen
    std::map<pid_t, std::size_t> current_; // live pid -> processes_ (pids are reused)
    std::map<pid_t, Thread> threads_;      // live tid -> its CPU so far
    std::uint64_t first_ns_ = 0;
    std::uint64_t last_ns_ = 0;
    std::size_t events_ = 0;
    bool has_cpu_ = false;
};

} // namespace pctx::detail
