#include "cli/run_options.hpp"

#include "cli/event_catalog.hpp"
#include "cli/help_text.hpp"
#include "views/timeline_cairo.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>

namespace pctx::cli {
namespace {

bool all_digits(const std::string& s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A positive decimal integer no larger than max, or nothing.
std::optional<unsigned long> positive(const std::string& s, unsigned long max)
{
    if (!all_digits(s) || s.size() > 10)
        return std::nullopt;
    const unsigned long v = std::strtoul(s.c_str(), nullptr, 10);
    if (v == 0 || v > max)
        return std::nullopt;
    return v;
}

// SECONDS: digits with an optional fraction ("1", "0.5", ".25", "2."), at most a day.
std::optional<double> seconds_of(const std::string& s)
{
    const auto dot = s.find('.');
    const std::string whole = s.substr(0, dot);
    const std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
    if ((whole.empty() && frac.empty()) || (!whole.empty() && !all_digits(whole)) ||
        (!frac.empty() && !all_digits(frac)) || s.size() > 20)
        return std::nullopt;
    const double secs = std::strtod(s.c_str(), nullptr);
    if (!std::isfinite(secs) || secs > 86400.0)
        return std::nullopt;
    return secs;
}

// CLI11 checks, run on the option's words before conversion; their message
// follows the option's name. No description: --help shows the type name alone.

// A positive decimal integer no larger than max.
CLI::Validator positive_integer(const std::string& what, unsigned long max)
{
    return CLI::Validator(
        [what, max](std::string& s) -> std::string {
            if (positive(s, max))
                return {};
            return what + " must be a positive integer" +
                   (max < INT_MAX ? " up to " + std::to_string(max) : std::string()) + ", not '" +
                   s + "'";
        },
        "");
}

CLI::Validator seconds()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            if (seconds_of(s))
                return {};
            return "SECONDS must be 0 or a number of seconds up to 86400 (such as 1 or 0.25), "
                   "not '" +
                   s + "'";
        },
        "");
}

// A size in bytes with CLI11's suffixes (k = 1024), from 1 to max; the word
// becomes the number of bytes.
CLI::Validator size_in_bytes(unsigned long max)
{
    const CLI::AsSizeValue as_size(false);
    return CLI::Validator(
        [as_size, max](std::string& s) -> std::string {
            const std::string given = s;
            std::string err;
            try {
                err = as_size(s);
            } catch (const CLI::ValidationError& e) {
                err = e.what();
            }
            if (err.empty() && positive(s, max))
                return {};
            s = given;
            return "BYTES must be a size from 1 byte to " + std::to_string(max >> 30) +
                   "g (such as 65536, 256k or 4m), not '" + given + "'";
        },
        "");
}

CLI::Validator one_of_formats()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            if (s == "text" || s == "json" || s == "csv" || s == "chrome")
                return {};
            return "FORMAT must be text, json, csv or chrome, not '" + s + "'";
        },
        "");
}

// The most a ring buffer may hold: its size is a 32-bit power of two.
constexpr unsigned long kMaxRingBytes = 1UL << 31;
// The kernel's own limit on pids (PID_MAX_LIMIT), so on tasks at once.
constexpr unsigned long kMaxTasks = 4UL << 20;

UsageFailure usage(std::string message)
{
    return UsageFailure{2, std::move(message)};
}

} // namespace

RunOptions::RunOptions(CLI::App& app)
{
    run_ = app.add_subcommand("run", help::kRunPurpose);
    run_->add_option("-c,--counters", sets_, help::kCounters)
        ->type_name("EVENTS")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run_->add_option("-T,--interval", interval_, help::kInterval)
        ->type_name("SECONDS")
        ->check(seconds());
    run_->add_option("-N,--samples", samples_, help::kSamples)
        ->type_name("COUNT")
        ->check(positive_integer("COUNT", UINT_MAX));
    run_->add_flag("-f,--follow", config_.follow_forks, help::kFollow);
    run_->add_flag("-e", exec_compat_, help::kExec);
    run_->add_flag("--stop-at-exec", config_.stop_at_exec, help::kStopAtExec);
    run_->add_option("-p,--pid", pids_, help::kPid)
        ->type_name("PID")
        ->check(positive_integer("PID", INT_MAX))
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run_->add_flag("-a,--all", config_.system_wide, help::kAll);
    run_->add_option("--cgroup", config_.cgroup, help::kCgroup)->type_name("PATH");
    run_->add_option("--probe", config_.probes, help::kProbe)
        ->type_name("PATTERN")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run_->add_option("--pidns", pidns_, help::kPidns)->type_name("PID");
    run_->add_option("-o,--output", config_.output_path, help::kOutput)->type_name("FILE");
    run_->add_option("--plot", config_.plot_path, help::kPlot)->type_name("FILE");
    run_->add_flag(
        "-n,--no-header", [this](std::int64_t) { config_.header = false; }, help::kNoHeader);
    run_->add_flag("-t,--tick", tick_, help::kTick);
    run_->add_flag("-v,--verbose", config_.show_lwp_rows, help::kVerbose);
    run_->add_flag("-q,--quiet", config_.quiet, help::kQuiet);
    run_->add_option("--format", format_, help::kFormat)
        ->type_name("FORMAT")
        ->check(one_of_formats());
    run_->add_flag("--debug", config_.debug, help::kDebug);
    run_->add_option("--ringbuf-size", config_.ring_buffer_bytes, help::kRingbufSize)
        ->type_name("BYTES")
        ->transform(size_in_bytes(kMaxRingBytes));
    run_->add_option("--max-tasks", config_.max_tasks, help::kMaxTasks)
        ->type_name("N")
        ->check(positive_integer("N", kMaxTasks));
    // Everything from the first word that is not an option is the command's own.
    run_->prefix_command();
    run_->formatter(help::run_formatter());
    run_->footer([] { return help::run_footer(); });
}

std::optional<UsageFailure>
RunOptions::finish(const std::optional<std::vector<std::string>>& after_dashes)
{
    std::vector<std::string> rest = run_->remaining();
    if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-')
        return usage("unknown option '" + rest.front() + "'");
    if (after_dashes) {
        if (!rest.empty())
            return usage("put the whole command after --, not '" + rest.front() + "' before it");
        rest = *after_dashes;
    }
    config_.command = rest;

    for (const pid_t pid : pids_) {
        if (std::find(config_.pids.begin(), config_.pids.end(), pid) != config_.pids.end())
            return usage("-p: pid " + std::to_string(pid) + " is given twice");
        config_.pids.push_back(pid);
    }
    for (const auto& pattern : config_.probes) {
        const auto colon = pattern.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == pattern.size())
            return usage("--probe: a PATTERN is provider:name (with * wildcards), not '" + pattern +
                         "'");
    }
    const bool scoped = config_.system_wide || !config_.cgroup.empty();
    if (config_.system_wide && !config_.cgroup.empty())
        return usage("-a traces every process, --cgroup the processes of one cgroup: give one");
    if (!config_.cgroup.empty() && config_.cgroup.find_first_not_of(' ') == std::string::npos)
        return usage("--cgroup: give a cgroup v2 directory, such as one under /sys/fs/cgroup");
    if (config_.command.empty() && config_.pids.empty() && !scoped)
        return usage("give a command to run (after --), -p PID to capture, -a or --cgroup PATH");
    if (!config_.command.empty() && !config_.pids.empty())
        return usage("give a command to run or -p PID, not both");
    if (!pidns_.empty()) {
        const auto pid = positive(pidns_, INT_MAX);
        if (!pid)
            return usage("--pidns: PID must be a positive integer, not '" + pidns_ + "'");
        if (config_.pids.empty())
            return usage("--pidns goes with -p: a command run here lives in this pid namespace");
        if (scoped)
            return usage("--pidns goes with -p alone: -a and --cgroup report this pid namespace's "
                         "ids");
        config_.pidns = static_cast<pid_t>(*pid);
    }

    const double secs = seconds_of(interval_).value_or(0.0); // checked by seconds()
    config_.interval = std::chrono::milliseconds(std::llround(secs * 1000.0));
    if (secs > 0.0 && config_.interval.count() == 0)
        return usage("-T: the shortest interval is 0.001 seconds, not '" + interval_ + "'");
    if (run_->count("-N") > 0) {
        if (config_.interval.count() == 0)
            return usage("-N counts samples, and -T 0 takes none");
        config_.nsamples = samples_;
    }

    if (format_ == "json")
        config_.format = Format::Json;
    else if (format_ == "csv")
        config_.format = Format::Csv;
    else if (format_ == "chrome")
        config_.format = Format::Chrome;
    else
        config_.format = Format::Text; // one_of_formats() let nothing else through

    if (!config_.plot_path.empty() && !detail::picture_format_of(config_.plot_path))
        return usage("--plot: name the picture FILE.svg or FILE.png, not '" + config_.plot_path +
                     "'");

    if (exec_compat_ && config_.stop_at_exec)
        return usage("-e (follow across exec) and --stop-at-exec contradict each other");

    if (!sets_.empty() || tick_) {
        for (const auto& spec : sets_) {
            CounterCheck check = check_counters(spec);
            if (!check.error.empty())
                return UsageFailure{check.usage ? 2 : 1, "-c: " + check.error};
            config_.counters.sets.push_back(std::move(check.names));
        }
        // Only -t needs the catalogue: list_events() opens each known event.
        if (tick_)
            config_.counters.tick = tick_counter(list_events());
        const std::size_t total = config_.counters.all().size();
        if (total > kMaxCounters)
            return usage("-c: " + std::to_string(total) + " different events asked for" +
                         (tick_ ? " (with -t's)" : "") + "; at most " +
                         std::to_string(kMaxCounters) + " can be counted, in all sets together");
    }
    return std::nullopt;
}

} // namespace pctx::cli
