// "pctx-bpf probe trace": enables the probes matching the patterns, prints
// each hit until Ctrl-C, SIGTERM or the target's exit, and follows
// libraries mapped later (the maps are compared every 200 ms).
#include "cli/probe_command.hpp"

#include <pctx/probes.hpp>

#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace pctx::cli {

namespace {

std::string value_text(const ProbeValue& v)
{
    return v.is_signed ? std::to_string(v.value) : std::to_string(v.as_unsigned());
}

nlohmann::json args_json(const ProbeHit& hit)
{
    nlohmann::json args = nlohmann::json::array();
    for (const auto& v : hit.args) {
        if (v.is_signed)
            args.push_back(v.value);
        else
            args.push_back(v.as_unsigned());
    }
    return args;
}

std::string dump(const nlohmann::json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Chrome Trace Event Format (ui.perfetto.dev, chrome://tracing): each hit an
// instant event on its thread's track, microseconds since the first hit; the
// array opens with the first hit and is closed by finish().
class ChromeHits {
public:
    void hit(const ProbeHit& hit)
    {
        if (first_)
            t0_ = hit.time_ns;
        nlohmann::json e;
        e["name"] = hit.probe->provider + ":" + hit.probe->name;
        e["cat"] = "probe";
        e["ph"] = "i";
        e["s"] = "t";
        e["pid"] = hit.pid;
        e["tid"] = hit.tid;
        e["ts"] = static_cast<double>(hit.time_ns - t0_) / 1000.0;
        e["args"] = nlohmann::json{{"args", args_json(hit)}};
        std::printf("%s%s", first_ ? "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n" : ",\n",
                    dump(e).c_str());
        first_ = false;
    }
    void finish()
    {
        std::printf("%s]}\n", first_ ? "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[" : "\n");
    }

private:
    bool first_ = true;
    std::uint64_t t0_ = 0;
};

void print_hit(const std::string& format, const ProbeHit& hit)
{
    const ProbeInfo& p = *hit.probe;
    if (format == "json") {
        nlohmann::json j;
        j["event"] = "probe";
        j["provider"] = p.provider;
        j["name"] = p.name;
        j["pid"] = hit.pid;
        j["tid"] = hit.tid;
        j["time_ns"] = hit.time_ns;
        j["args"] = args_json(hit);
        std::printf("%s\n", dump(j).c_str());
        return;
    }
    std::string args;
    for (const auto& v : hit.args)
        args += (args.empty() ? "" : " ") + value_text(v);
    if (format == "csv")
        std::printf("%" PRIu64 ",%d,%d,%s,%s,%s\n", hit.time_ns, hit.pid, hit.tid,
                    p.provider.c_str(), p.name.c_str(), args.c_str());
    else
        std::printf("%" PRIu64 " %d/%d %s:%s%s%s\n", hit.time_ns, hit.pid, hit.tid,
                    p.provider.c_str(), p.name.c_str(), args.empty() ? "" : " ", args.c_str());
}

std::string maps_text(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Enables every disabled probe a pattern matches; counts per pattern.
std::vector<int> enable_matching(ProbeControl& ctl, const std::vector<std::string>& patterns)
{
    std::vector<int> counts(patterns.size());
    for (const auto& p : ctl.probes())
        for (std::size_t i = 0; i < patterns.size(); ++i)
            if (probe_matches(patterns[i], p)) {
                ++counts[i];
                if (!ctl.probe(p.id).enabled)
                    ctl.enable(p.id);
            }
    return counts;
}

// After check_libs: enables what newly matches and says so on stderr.
void report_new(ProbeControl& ctl, const std::vector<std::string>& patterns)
{
    std::set<unsigned> before;
    for (const auto& p : ctl.probes())
        if (p.enabled)
            before.insert(p.id);
    enable_matching(ctl, patterns);
    for (const auto& p : ctl.probes())
        if (p.enabled && before.count(p.id) == 0)
            std::fprintf(stderr, "pctx-bpf: tracing %s:%s in %s, mapped since\n",
                         p.provider.c_str(), p.name.c_str(), p.object.c_str());
}

// SIGINT and SIGTERM become readable on a signalfd while tracing.
class BlockedSignals {
public:
    BlockedSignals()
    {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &set, &old_);
        fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    }
    ~BlockedSignals()
    {
        // Taken, so unblocking does not deliver them again.
        signalfd_siginfo info;
        while (fd_ >= 0 && ::read(fd_, &info, sizeof(info)) == sizeof(info)) {
        }
        if (fd_ >= 0)
            ::close(fd_);
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;
    int fd() const { return fd_; }

private:
    sigset_t old_{};
    int fd_ = -1;
};

} // namespace

int probe_trace(const ProbeTraceOptions& options)
{
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, options.pid, 0));
    if (pidfd < 0) {
        std::fprintf(stderr, "pctx-bpf probe trace: no process %d\n", options.pid);
        return 1;
    }
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } pidfd_closer{pidfd};
    BlockedSignals signals; // before "tracing" is said: from then on, Ctrl-C ends cleanly
    ChromeHits chrome;
    // Whatever ends the trace, a chrome trace is closed whole once begun.
    struct Close {
        const std::string& format;
        ChromeHits& chrome;
        bool begun = false;
        ~Close()
        {
            if (begun && format == "chrome") {
                chrome.finish();
                std::fflush(stdout);
            }
        }
    } close{options.format, chrome};
    try {
        // Before the first scan: whatever is mapped after it changes this.
        std::string maps = maps_text(options.pid);
        auto ctl = ProbeControl::open_pid(options.pid);
        const auto counts = enable_matching(ctl, options.patterns);
        for (std::size_t i = 0; i < counts.size(); ++i)
            if (counts[i] == 0) {
                std::fprintf(stderr,
                             "pctx-bpf probe trace: no probe of process %d matches '%s' (see "
                             "'pctx-bpf probe list -p %d')\n",
                             options.pid, options.patterns[i].c_str(), options.pid);
                return 1;
            }
        ctl.on_hit([&](const ProbeHit& hit) {
            if (options.format == "chrome")
                chrome.hit(hit);
            else
                print_hit(options.format, hit);
        });
        int enabled = 0;
        for (const auto& p : ctl.probes())
            enabled += p.enabled ? 1 : 0;
        // Also the moment from which hits are seen: scripts (and tests) wait for it.
        std::fprintf(stderr, "pctx-bpf: tracing %d probes of process %d; Ctrl-C to stop\n", enabled,
                     options.pid);
        if (options.format == "csv")
            std::printf("time_ns,pid,tid,provider,name,args\n");
        close.begun = true;
        std::fflush(stdout);
        auto last_scan = std::chrono::steady_clock::now();
        for (;;) {
            pollfd fds[3] = {
                {ctl.hits_fd(), POLLIN, 0}, {pidfd, POLLIN, 0}, {signals.fd(), POLLIN, 0}};
            const int n = ::poll(fds, 3, 200);
            ctl.poll(0);
            std::fflush(stdout);
            if (n > 0 && (fds[2].revents & POLLIN) != 0)
                break;
            if (n > 0 && (fds[1].revents & POLLIN) != 0)
                break;
            // Every 200 ms, busy or not: a dlopen during a flood of hits too.
            const auto now = std::chrono::steady_clock::now();
            if (now - last_scan >= std::chrono::milliseconds(200)) {
                last_scan = now;
                std::string text = maps_text(options.pid);
                // Empty: a zombie's maps, or the process is gone: its end.
                if (text.empty())
                    break;
                if (text != maps) {
                    maps = std::move(text);
                    try {
                        if (ctl.check_libs())
                            report_new(ctl, options.patterns);
                    } catch (const ProbeError& e) {
                        if (e.code() != ProbeErrc::BadPid)
                            throw;
                        break; // it exited during the scan: as at its exit
                    }
                }
            }
        }
        ctl.poll(0);
        std::fflush(stdout);
        if (const auto lost = ctl.lost(); lost != 0)
            std::fprintf(stderr, "pctx-bpf: lost %" PRIu64 " probe hits (the buffer was full)\n",
                         lost);
    } catch (const ProbeError& e) {
        std::fprintf(stderr, "pctx-bpf probe trace: %s\n", e.what());
        return 1;
    }
    return 0;
}

} // namespace pctx::cli
