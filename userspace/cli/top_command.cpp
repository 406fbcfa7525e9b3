#include "cli/top_command.hpp"

#include "pctx/pctx.hpp"
#include "views/top_screen.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace pctx::cli {
namespace {

constexpr const char* kPurpose =
    "A live full-screen view of processes and their counters' rates, as top and tiptop";
constexpr const char* kPid = "Watch the running process PID (repeat for several)";
constexpr const char* kFollow = "Follow forks: watch the children of -p's processes too";
constexpr const char* kAll = "Watch every process (the default)";
constexpr const char* kCgroup = "Watch the processes of a cgroup v2 subtree";
constexpr const char* kCounters =
    "Count EVENTS (comma-separated; default task-clock,context-switches,page-faults)";
constexpr const char* kDelay = "Refresh every SECONDS (fractions allowed; default 2)";
constexpr const char* kBatch = "Batch mode: print the table as text at each refresh, no screen";
constexpr const char* kIterations = "With -b: stop after COUNT tables";
constexpr const char* kFooter =
    "Or: pctx-bpf top [OPTIONS] -- COMMAND [ARGS...] starts COMMAND and watches it and its\n"
    "children (its standard streams are /dev/null while the screen is up).\n"
    "\n"
    "One row per process: CPU% from task-clock or cpu-clock, each other counter per second,\n"
    "IPC when cycles and instructions both count, lifetime and state. '+' marks a process\n"
    "started since the last refresh; one that exited stays one refresh, marked 'x', with\n"
    "its exit status.\n"
    "\n"
    "KEYS: q quit, space pause, s or > next sort column, < previous, r reverse,\n"
    "/ filter by command, H threads, c choose counters (restarts the session).\n"
    "\n"
    "EXAMPLES:\n"
    "  pctx-bpf top -p 1234 -f\n"
    "  pctx-bpf top -b -n 2 -d 1 -p 1234\n"
    "  pctx-bpf top -c task-clock,cycles,instructions -- make -j2\n";

int usage(const std::string& message)
{
    std::fprintf(stderr, "pctx-bpf top: %s\nRun 'pctx-bpf top --help' for more information.\n",
                 message.c_str());
    return 2;
}

} // namespace

TopCommand::TopCommand(CLI::App& app)
{
    top_ = app.add_subcommand("top", kPurpose);
    top_->add_option("-p,--pid", pids_, kPid)->type_name("PID");
    top_->add_flag("-f,--follow", follow_, kFollow);
    top_->add_flag("-a,--all", all_, kAll);
    top_->add_option("--cgroup", cgroup_, kCgroup)->type_name("PATH");
    top_->add_option("-c,--counters", counters_, kCounters)->type_name("EVENTS");
    top_->add_option("-d,--delay", delay_, kDelay)->type_name("SECONDS");
    top_->add_flag("-b,--batch", batch_, kBatch);
    top_->add_option("-n,--iterations", iterations_, kIterations)->type_name("COUNT");
    top_->footer(kFooter);
}

int TopCommand::run(const std::optional<std::vector<std::string>>& after_dashes)
{
    if (!top_->remaining().empty())
        return usage("unexpected '" + top_->remaining().front() + "' (a command goes after --)");
    for (pid_t pid : pids_)
        if (pid <= 0)
            return usage("-p: a process id is a positive number, not " + std::to_string(pid));
    const bool command = after_dashes.has_value();
    if (command && after_dashes->empty())
        return usage("-- must be followed by a command");
    const int scopes =
        (pids_.empty() ? 0 : 1) + (all_ ? 1 : 0) + (cgroup_.empty() ? 0 : 1) + (command ? 1 : 0);
    if (scopes > 1)
        return usage("choose one of -p, -a, --cgroup and -- COMMAND");
    if (follow_ && pids_.empty())
        return usage("-f follows the children of -p's processes: give -p PID");
    if (!(delay_ > 0) || !std::isfinite(delay_) || delay_ > 86400)
        return usage("-d: a refresh interval in seconds, more than 0");
    if (top_->count("-n") != 0 && (!batch_ || iterations_ == 0))
        return usage("-n COUNT: at least 1 table, in batch mode (-b)");
    if (counters_.empty())
        return usage("-c: name at least one event (see pctx-bpf list)");

    detail::TopSettings settings;
    settings.counters = counters_;
    settings.interval = std::chrono::milliseconds(std::max(1L, std::lround(delay_ * 1000.0)));
    detail::TopScope& scope = settings.scope;
    scope.follow = follow_;
    if (command) {
        scope.kind = detail::TopScope::Kind::Command;
        scope.command = *after_dashes;
    } else if (!pids_.empty()) {
        scope.kind = detail::TopScope::Kind::Pids;
        scope.pids = pids_;
    } else if (!cgroup_.empty()) {
        scope.kind = detail::TopScope::Kind::Cgroup;
        scope.cgroup = cgroup_;
    } else {
        scope.kind = detail::TopScope::Kind::All;
    }
    try {
        if (batch_)
            return detail::run_top_batch(settings, iterations_, stdout);
        return detail::run_top_screen(settings);
    } catch (const Error& e) {
        std::fprintf(stderr, "pctx-bpf top: %s\n", e.what());
        return 1;
    }
}

} // namespace pctx::cli
