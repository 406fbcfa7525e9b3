#include "cli/agent_command.hpp"

#include "agent/agent.hpp"
#include "pctx/pctx.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace pctx::cli {
namespace {

constexpr const char* kPurpose =
    "Trace every process (or a cgroup's) and serve their counters and lifecycle to Prometheus";
constexpr const char* kCounters =
    "Count EVENTS (comma-separated; default task-clock,context-switches,page-faults)";
constexpr const char* kCgroup = "Trace the processes of a cgroup v2 subtree instead of all";
constexpr const char* kListen = "Serve /metrics on ADDR:PORT (default 127.0.0.1:9464; port 0: any)";
constexpr const char* kPerPid = "Label series with the pid too (more series)";
constexpr const char* kSeriesTtl =
    "Drop a series idle for SECONDS once its processes are gone (default 600)";
constexpr const char* kInterval = "Fold live threads' counters every SECONDS (default 5)";
constexpr const char* kFooter =
    "Series are per (cgroup, comm), or per (cgroup, comm, pid) with --per-pid; a process that\n"
    "exits or execs leaves its counts in its series, so no counter goes backwards.\n"
    "SIGTERM and SIGINT stop the agent cleanly; SIGHUP is ignored (nothing to reload).\n"
    "\n"
    "EXAMPLES:\n"
    "  pctx-bpf agent\n"
    "  pctx-bpf agent --listen 0.0.0.0:9464 --cgroup /sys/fs/cgroup/kubepods.slice\n";

std::atomic<detail::Agent*> g_agent{nullptr};

void on_stop(int /*sig*/)
{
    if (detail::Agent* a = g_agent.load())
        a->terminate();
}

void on_hup(int /*sig*/)
{
    static const char msg[] = "pctx-bpf agent: SIGHUP ignored (nothing to reload)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}

int usage(const std::string& message)
{
    std::fprintf(stderr, "pctx-bpf agent: %s\nRun 'pctx-bpf agent --help' for more information.\n",
                 message.c_str());
    return 2;
}

bool seconds_ok(double s, double max)
{
    return s > 0 && std::isfinite(s) && s <= max;
}

// SIGINT, SIGTERM and SIGHUP as the agent handles them while it lives, and
// ignored after.
class AgentSignals {
public:
    explicit AgentSignals(detail::Agent& agent)
    {
        g_agent.store(&agent);
        struct sigaction sa {};
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sa.sa_handler = on_stop;
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        sa.sa_handler = on_hup;
        ::sigaction(SIGHUP, &sa, nullptr);
    }
    // The agent is stopping: a stop signal after this one (timeout(1) sends
    // its SIGTERM to the process and to its group) has nothing left to stop
    // and must not kill the agent while it shuts down.
    ~AgentSignals()
    {
        g_agent.store(nullptr);
        struct sigaction ignore {};
        sigemptyset(&ignore.sa_mask);
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGINT, &ignore, nullptr);
        ::sigaction(SIGTERM, &ignore, nullptr);
        ::sigaction(SIGHUP, &ignore, nullptr);
    }
    AgentSignals(const AgentSignals&) = delete;
    AgentSignals& operator=(const AgentSignals&) = delete;
};

} // namespace

AgentCommand::AgentCommand(CLI::App& app)
{
    agent_ = app.add_subcommand("agent", kPurpose);
    agent_->add_option("-c,--counters", counters_, kCounters)->type_name("EVENTS");
    agent_->add_option("--cgroup", cgroup_, kCgroup)->type_name("PATH");
    agent_->add_option("--listen", listen_, kListen)->type_name("ADDR:PORT");
    agent_->add_flag("--per-pid", per_pid_, kPerPid);
    agent_->add_option("--series-ttl", series_ttl_, kSeriesTtl)->type_name("SECONDS");
    agent_->add_option("-T,--interval", interval_, kInterval)->type_name("SECONDS");
    agent_->footer(kFooter);
}

int AgentCommand::run(const std::optional<std::vector<std::string>>& after_dashes)
{
    if (after_dashes)
        return usage("takes no command: it traces every process, or --cgroup's");
    if (!agent_->remaining().empty())
        return usage("unexpected '" + agent_->remaining().front() + "'");
    if (counters_.empty())
        return usage("-c: name at least one event (see pctx-bpf list)");
    if (!seconds_ok(interval_, 86400))
        return usage("-T: an interval in seconds, more than 0");
    if (!seconds_ok(series_ttl_, 365.0 * 86400))
        return usage("--series-ttl: a time in seconds, more than 0");
    if (listen_.rfind(':') == std::string::npos)
        return usage("--listen: ADDR:PORT, e.g. 127.0.0.1:9464");
    if (const CounterCheck check = check_counters(counters_); !check.error.empty()) {
        if (check.usage)
            return usage("-c: " + check.error);
        std::fprintf(stderr, "pctx-bpf agent: %s\n", check.error.c_str());
        return 1;
    }

    detail::AgentSettings settings;
    settings.counters = counters_;
    settings.cgroup = cgroup_;
    settings.listen = listen_;
    settings.per_pid = per_pid_;
    settings.series_ttl = std::chrono::seconds(std::max(1L, std::lround(series_ttl_)));
    settings.tick = std::chrono::milliseconds(std::max(1L, std::lround(interval_ * 1000.0)));
    try {
        detail::Agent agent(settings);
        AgentSignals signals(agent);
        const auto colon = listen_.rfind(':');
        // On stdout, once listening: what a supervisor or a test waits for.
        std::printf("pctx-bpf agent: serving http://%s:%d/metrics\n",
                    listen_.substr(0, colon).c_str(), agent.port());
        std::fflush(stdout);
        const RunResult result = agent.run();
        if (result == RunResult::ControlLost) {
            std::fprintf(stderr, "pctx-bpf agent: the event stream broke; stopping\n");
            return 1;
        }
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "pctx-bpf agent: %s\n", e.what());
        return 1;
    }
}

} // namespace pctx::cli
