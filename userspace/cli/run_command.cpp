#include "cli/run_command.hpp"

#include "pctx/pctx.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace pctx::cli {
namespace {

// The session a SIGINT or SIGTERM ends; terminate() is async-signal-safe.
Session* g_session = nullptr;

void on_terminal_signal(int)
{
    if (g_session)
        g_session->terminate();
}

class SignalScope {
public:
    explicit SignalScope(Session& s)
    {
        g_session = &s;
        struct sigaction sa {};
        sa.sa_handler = on_terminal_signal;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &old_int_);
        ::sigaction(SIGTERM, &sa, &old_term_);
    }
    ~SignalScope()
    {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
        g_session = nullptr;
    }
    SignalScope(const SignalScope&) = delete;
    SignalScope& operator=(const SignalScope&) = delete;

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

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

void install_rows(Session& session, Writer& out)
{
    Handlers& h = session.handlers();
    auto lwp = [&out](const char* name) {
        return [&out, name](const LwpEvent& ev) {
            Row r;
            r.event = name;
            r.pid = ev.pid;
            r.tid = ev.tid;
            r.time_ns = ev.time_ns;
            out.write(r);
        };
    };
    h.init_lwp = lwp("init_lwp");
    h.fini_lwp = lwp("fini_lwp");
    h.lwp_create = lwp("lwp_create");
    h.lwp_exit = lwp("lwp_exit");
    h.fork = [&out](const ForkEvent& ev) {
        Row r;
        r.event = "fork";
        r.pid = ev.pid;
        r.tid = ev.tid;
        r.time_ns = ev.time_ns;
        r.child_pid = ev.child_pid;
        out.write(r);
    };
    h.exec = [&out](const ExecEvent& ev) {
        Row r;
        r.event = "exec";
        r.pid = ev.pid;
        r.tid = ev.tid;
        r.time_ns = ev.time_ns;
        r.args = ev.argv;
        out.write(r);
    };
    h.exit = [&out](const ExitEvent& ev) {
        Row r;
        r.event = "exit";
        r.pid = ev.pid;
        r.tid = ev.tid;
        r.time_ns = ev.time_ns;
        r.status = ev.shell_status();
        r.signal = ev.signal();
        out.write(r);
    };
    h.lost = [&out](const LostEvent& ev) {
        Row r;
        r.event = "lost";
        r.time_ns = ev.time_ns;
        r.count = ev.count;
        out.write(r);
    };
    h.diagnostic = [](const std::string&, const std::string& msg) {
        std::fprintf(stderr, "pctx-bpf: %s\n", msg.c_str());
    };
}

} // namespace

int run_command(const RunConfig& config)
{
    std::unique_ptr<std::FILE, FileCloser> out(stdout);
    if (!config.output_path.empty()) {
        out.reset(std::fopen(config.output_path.c_str(), "w"));
        if (!out) {
            std::fprintf(stderr, "pctx-bpf: cannot write '%s': %s\n", config.output_path.c_str(),
                         std::strerror(errno));
            return 1;
        }
    }

    // Rows stream to pipes and terminals as they happen; files get full buffers.
    struct stat st {};
    if (::fstat(::fileno(out.get()), &st) != 0 || !S_ISREG(st.st_mode))
        std::setvbuf(out.get(), nullptr, _IOLBF, 0);

    Options options;
    options.follow_forks = config.follow_forks;
    options.stop_at_exec = config.stop_at_exec;
    options.verbose = config.debug;

    std::optional<Session> session;
    try {
        session.emplace(config.command.empty() ? Session::attach(config.pid, options)
                                               : Session::spawn(config.command, options));
    } catch (const Error& e) {
        std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
        return 1;
    }

    WriterConfig wc;
    wc.format = config.format;
    wc.show_pid = true;
    wc.show_lwp_rows = config.show_lwp_rows;
    wc.start_ns = now_ns();
    const auto writer = make_writer(wc, out.get());
    install_rows(*session, *writer);

    RunResult result = RunResult::Finished;
    {
        SignalScope signals(*session);
        try {
            result = session->run();
        } catch (const Error& e) {
            writer->finish();
            std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
            return 1;
        }
    }
    writer->finish();

    if (result == RunResult::ControlLost)
        return 1;
    if (session->spawned()) {
        if (const auto ex = session->target_exit())
            return ex->shell_status();
        return 128 + SIGTERM; // ended by a signal to us: the command was killed
    }
    return 0;
}

} // namespace pctx::cli
