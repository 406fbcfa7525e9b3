#include "views/top_feed.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

namespace pctx::detail {
namespace {

std::uint64_t clock_ns(clockid_t clock)
{
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string user_name(uid_t uid)
{
    passwd pw{};
    passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != nullptr)
        return pw.pw_name;
    return std::to_string(uid);
}

// Who a process is, read once when it is first seen without a fork.
struct ProcInfo {
    std::string user;
    std::string command;
    std::uint64_t start_ns = 0; // CLOCK_MONOTONIC
};

ProcInfo read_proc(pid_t pid, std::uint64_t fallback_start_ns)
{
    const std::string dir = "/proc/" + std::to_string(pid);
    ProcInfo info;
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0)
        info.user = user_name(st.st_uid);
    std::string cmdline = slurp(dir + "/cmdline");
    while (!cmdline.empty() && cmdline.back() == '\0')
        cmdline.pop_back();
    for (char& c : cmdline)
        if (c == '\0')
            c = ' ';
    if (cmdline.empty()) {
        std::string comm = slurp(dir + "/comm");
        while (!comm.empty() && comm.back() == '\n')
            comm.pop_back();
        cmdline = "[" + comm + "]";
    }
    info.command = cmdline;
    info.start_ns = fallback_start_ns;
    // Field 22 of stat, after the parenthesised name: start in clock ticks since boot.
    const std::string stat = slurp(dir + "/stat");
    const auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::string f;
        for (int i = 3; i <= 22 && fields >> f; ++i) {
            if (i != 22)
                continue;
            const double since_boot_s = std::stod(f) / static_cast<double>(::sysconf(_SC_CLK_TCK));
            const std::uint64_t boot_now = clock_ns(CLOCK_BOOTTIME);
            const auto since_boot_ns = static_cast<std::uint64_t>(since_boot_s * 1e9);
            const std::uint64_t age = boot_now > since_boot_ns ? boot_now - since_boot_ns : 0;
            const std::uint64_t mono_now = clock_ns(CLOCK_MONOTONIC);
            info.start_ns = mono_now > age ? mono_now - age : 0;
        }
    }
    return info;
}

} // namespace

pctx::Session open_top_session(const TopScope& scope, const std::string& counters)
{
    pctx::Options options;
    options.counters = counters;
    options.follow_forks = scope.follow || scope.kind == TopScope::Kind::Command;
    switch (scope.kind) {
    case TopScope::Kind::Command:
        return pctx::Session::spawn(scope.command, options);
    case TopScope::Kind::Pids:
        return pctx::Session::attach(scope.pids, options);
    case TopScope::Kind::All:
        options.system_wide = true;
        return pctx::Session::watch(options);
    case TopScope::Kind::Cgroup:
        options.cgroup = scope.cgroup;
        return pctx::Session::watch(options);
    }
    throw pctx::Error("top", "unknown scope");
}

TopFeed::TopFeed(const TopScope& scope, const std::string& counters,
                 std::chrono::milliseconds interval)
    : scope_(scope), session_(open_top_session(scope, counters)),
      model_(session_.counter_names(), clock_ns(CLOCK_MONOTONIC)), interval_(interval)
{
    next_ns_ =
        clock_ns(CLOCK_MONOTONIC) + static_cast<std::uint64_t>(interval_.count()) * 1000000ULL;
    auto values = [this](pid_t pid, pid_t tid) {
        std::vector<std::uint64_t> v;
        for (const auto& c : session_.read_counters(pid, tid))
            v.push_back(c.value);
        return v;
    };
    Handlers& h = session_.handlers();
    h.init_lwp = [this](const LwpEvent& e) {
        know(e.pid);
        model_.thread_start(e.pid, e.tid, e.time_ns);
    };
    h.tick = [this, values](const LwpEvent& e) {
        ticked_ = true;
        tick_ns_ = e.time_ns;
        // A thread the kernel could not count (the map was full) has none.
        if (!e.uncounted)
            model_.thread_values(e.pid, e.tid, values(e.pid, e.tid));
    };
    h.fini_lwp = [this, values](const LwpEvent& e) {
        if (!e.uncounted)
            model_.thread_values(e.pid, e.tid, values(e.pid, e.tid));
        model_.thread_end(e.pid, e.tid, e.time_ns);
    };
    h.fork = [this](const ForkEvent& e) {
        know(e.pid);
        model_.fork(e.pid, e.child_pid, e.time_ns);
        if (report_births_ && e.time_ns > births_reported_ns_ + 200000000ULL) {
            births_reported_ns_ = e.time_ns;
            session_.stop();
        }
    };
    h.exec = [this](const ExecEvent& e) {
        know(e.pid);
        model_.exec(e.pid, e.command_line(), e.time_ns);
    };
    h.exit = [this](const ExitEvent& e) {
        model_.exit(e.pid, e.wait_status, e.time_ns);
    };
    h.diagnostic = [this](const std::string&, const std::string& message) {
        diagnostics_.push_back(message);
    };
}

void TopFeed::know(pid_t pid)
{
    if (model_.knows(pid))
        return;
    const ProcInfo info = read_proc(pid, clock_ns(CLOCK_MONOTONIC));
    model_.describe(pid, info.user, info.command, info.start_ns);
}

TopFeed::Step TopFeed::step()
{
    const std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
    const auto period = static_cast<std::uint64_t>(interval_.count()) * 1000000ULL;
    if (next_ns_ <= now) // behind (a slow screen, a restart): the next one is a period away
        next_ns_ = now + period;
    const auto wait =
        std::chrono::milliseconds(std::max<std::uint64_t>(1, (next_ns_ - now) / 1000000ULL));
    ticked_ = false;
    const RunResult result = session_.run(wait, 1);
    model_.set_lost(session_.lost_events());
    if (result == RunResult::ControlLost)
        throw pctx::Error("top", "lost control of the session: " +
                                     (diagnostics_.empty() ? std::string("the event stream failed")
                                                           : diagnostics_.back()));
    if (result == RunResult::Finished) {
        model_.refresh(clock_ns(CLOCK_MONOTONIC));
        return Step::Finished;
    }
    if (!ticked_)
        return Step::Interrupted;
    model_.refresh(tick_ns_);
    next_ns_ += period;
    return Step::Refreshed;
}

std::vector<std::string> TopFeed::take_diagnostics()
{
    std::vector<std::string> out;
    out.swap(diagnostics_);
    return out;
}

} // namespace pctx::detail
