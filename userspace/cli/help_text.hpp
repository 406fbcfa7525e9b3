// The words of `pctx-bpf run --help`, kept in one place; docs/pctx-bpf.1 says
// the same (tests/test_cli_help.cpp checks that every option is in both).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace pctx::cli::help {

inline constexpr const char* kProgramPurpose =
    "pctx-bpf: trace the threads of a process tree with BPF, without stopping it";
inline constexpr const char* kRunPurpose =
    "Run a command (or capture running processes) and print its events and counters";
inline constexpr const char* kListPurpose =
    "List the events -c can count, each marked available here or not";
inline constexpr const char* kDoctorPurpose =
    "Check this machine and process for what run needs (capabilities, sysctls, seccomp, "
    "kernel features, PMU); exit 0 only when run can work";

inline constexpr const char* kCounters =
    "Count EVENTS (comma-separated); repeat -c for sets that take turns, one a sample";
inline constexpr const char* kInterval =
    "Sample every SECONDS (fractions allowed; default 1); 0: no samples";
inline constexpr const char* kSamples = "Stop after COUNT samples (the command is killed; exit 0)";
inline constexpr const char* kFollow = "Follow forks: trace children (and theirs) too";
inline constexpr const char* kExec = "Follow across exec (cputrack's -e; always so here)";
inline constexpr const char* kStopAtExec =
    "Release a process at its exec (never at the command's first)";
inline constexpr const char* kPid = "Capture the running process PID (repeat for several)";
inline constexpr const char* kAll =
    "Trace every process this pid namespace sees (kernel threads aside): until Ctrl-C, -N, or "
    "the COMMAND given ends";
inline constexpr const char* kCgroup =
    "Trace every process of the cgroup v2 subtree PATH, those that join it later included; one "
    "moved out is let go";
inline constexpr const char* kProbe =
    "Enable the USDT probes matching PATTERN (provider:name, * wildcards) in every traced "
    "process, their hits as probe rows (needs CAP_SYS_ADMIN)";
inline constexpr const char* kPidns =
    "Report pids as the pid namespace of process PID sees them (a container's view; -p stays ours)";
inline constexpr const char* kOutput = "Write events to FILE instead of standard output";
inline constexpr const char* kPlot =
    "At the end, draw the run's timeline to FILE (.svg or .png), as pctx-bpf plot does";
inline constexpr const char* kNoHeader = "No header line (text and csv)";
inline constexpr const char* kTick =
    "Add a column of each thread's cycles (its CPU time where no PMU counts them)";
inline constexpr const char* kVerbose = "Text output: also print init_lwp and fini_lwp rows";
inline constexpr const char* kQuiet = "No summary on standard error at the end";
inline constexpr const char* kFormat = "text (default), json (JSON lines), csv or chrome";
inline constexpr const char* kDebug = "Show libbpf's messages while loading";
inline constexpr const char* kRingbufSize =
    "Ring buffer of BYTES (k, m, g suffixes; rounded up to a power of two, a page at least)";
inline constexpr const char* kMaxTasks = "Track at most N processes and N threads at once";

// Usage lines of `pctx-bpf run`, in place of CLI11's.
std::shared_ptr<CLI::Formatter> run_formatter();
// Events this machine can count (asks the library), then the examples.
std::string run_footer();

} // namespace pctx::cli::help
