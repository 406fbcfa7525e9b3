#include "cli/run_command.hpp"

#include "cli/counter_tracker.hpp"
#include "cli/event_rows.hpp"
#include "cli/output/sink.hpp"
#include "cli/plot_writer.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"
#include "pctx/pctx.hpp"

#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace pctx::cli {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const noexcept
    {
        if (f && f != stdout)
            std::fclose(f);
    }
};

std::uint64_t now_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

Session start(const RunConfig& config)
{
    Options options;
    options.follow_forks = config.follow_forks;
    options.stop_at_exec = config.stop_at_exec;
    options.verbose = config.debug;
    if (config.ring_buffer_bytes)
        options.ring_buffer_bytes = *config.ring_buffer_bytes;
    if (config.max_tasks)
        options.max_processes = options.max_threads = *config.max_tasks;
    options.pidns = config.pidns;
    options.cgroup = config.cgroup;
    options.system_wide = config.system_wide;
    options.probes = config.probes;
    for (const auto& name : config.counters.all())
        options.counters += (options.counters.empty() ? "" : ",") + name;
    if (!config.command.empty())
        return Session::spawn(config.command, options);
    if (config.pids.empty())
        return Session::watch(options);
    if (config.pids.size() == 1)
        return Session::attach(config.pids.front(), options);
    return Session::attach(config.pids, options);
}

WriterConfig writer_config(const RunConfig& config)
{
    WriterConfig wc;
    wc.format = config.format;
    wc.show_pid = config.follow_forks || config.pids.size() > 1 || config.system_wide ||
                  !config.cgroup.empty();
    wc.show_lwp_rows = config.show_lwp_rows;
    wc.header = config.header;
    wc.start_ns = now_ns();
    wc.tick_counter = config.counters.tick;
    wc.counters = config.counters.all();
    wc.counter_columns = config.counters.set_union();
    return wc;
}

using File = std::unique_ptr<std::FILE, FileCloser>;

// stdout or -o's file, line-buffered unless a regular file; null after an error.
File open_output(const RunConfig& config)
{
    File file(stdout);
    if (!config.output_path.empty()) {
        // "e": O_CLOEXEC, so the command never inherits it.
        file.reset(std::fopen(config.output_path.c_str(), "we"));
        if (!file) {
            std::fprintf(stderr, "pctx-bpf: cannot write '%s': %s\n", config.output_path.c_str(),
                         std::strerror(errno));
            return file;
        }
    }
    // Rows stream to pipes and terminals as they happen; files get full buffers.
    struct stat st {};
    if (::fstat(::fileno(file.get()), &st) != 0 || !S_ISREG(st.st_mode))
        std::setvbuf(file.get(), nullptr, _IOLBF, 0);
    return file;
}

// The session with its counters asked for; nothing after an error (reported).
std::optional<Session> start_session(const RunConfig& config)
{
    std::optional<Session> session;
    try {
        session.emplace(start(config));
    } catch (const Error& e) {
        std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
        session.reset();
    }
    return session;
}

} // namespace

int run_command(const RunConfig& config)
{
    const File file = open_output(config);
    if (!file)
        return 1;
    catch_sigpipe();
    std::optional<Session> session = start_session(config);
    if (!session)
        return 1;
    // From here on SIGINT and SIGTERM end the run with the output whole.
    SignalScope signals(*session);

    Sink sink(file.get());
    bool plot_failed = false;
    const auto writer =
        tee_plot(make_writer(writer_config(config), sink), config.plot_path, plot_failed);
    CounterTracker counters(
        config.counters,
        [&session](pid_t pid, pid_t tid) { return session->read_counters(pid, tid); },
        [](const std::string& msg) { std::fprintf(stderr, "pctx-bpf: %s\n", msg.c_str()); },
        [&session](pid_t pid) {
            const Snapshot s = session->snapshot(pid);
            return s.processes.empty() ? std::vector<std::uint64_t>{} : s.processes.front().totals;
        });
    Summary summary(counters.names(), config.stop_at_exec);
    EventRows rows(counters, summary, [&](const Row& row) {
        writer->write(row);
        summary.record(row);
        if (sink.failed())
            session->stop();
    });
    rows.install(*session);

    RunResult result = RunResult::Finished;
    try {
        result = session->run(config.interval, config.nsamples);
    } catch (const Error& e) {
        writer->finish();
        std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
        return 1;
    }
    writer->finish();

    Summary::Ending ending;
    ending.end_ns = now_ns();
    ending.lost = session->lost();
    ending.unseen_switches = session->unseen_switches();
    const bool spawned = session->spawned();
    const std::optional<ExitEvent> target_exit = session->target_exit();
    // With a scope, what runs on at the end is mostly not the command's.
    const bool scoped = config.system_wide || !config.cgroup.empty();
    ending.unfinished = spawned && !scoped ? "killed" : "left running";
    ending.live_totals = [&counters](pid_t pid) {
        return counters.process_totals(pid);
    };
    // A spawned tree dies here; a captured process runs on.
    session->release();
    if (!config.quiet)
        summary.print(stderr, ending);

    if (sink.failed()) {
        if (sink.error() != EPIPE)
            std::fprintf(stderr, "pctx-bpf: cannot write the output: %s\n",
                         std::strerror(sink.error()));
        return 1;
    }
    if (result == RunResult::ControlLost || plot_failed)
        return 1;
    if (!spawned)
        return 0;
    if (target_exit)
        return target_exit->shell_status();
    if (signals.received() != 0)
        return 128 + signals.received();
    return 0; // -N samples taken, or the command released at a later exec
}

} // namespace pctx::cli
