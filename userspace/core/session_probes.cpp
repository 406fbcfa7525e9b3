#include "core/session_probes.hpp"

#include <fstream>
#include <sstream>
#include <utility>

namespace pctx::detail {

SessionProbes::SessionProbes(std::vector<std::string> patterns,
                             std::function<void(const ProbeEvent&)> deliver,
                             std::function<void(const std::string&)> diagnose)
    : patterns_(std::move(patterns)), deliver_(std::move(deliver)), diagnose_(std::move(diagnose))
{
}

namespace {

std::string maps_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

int SessionProbes::enable_matching(ProbeControl& ctl)
{
    int enabled = 0;
    for (const auto& p : ctl.probes())
        for (const auto& pattern : patterns_)
            if (probe_matches(pattern, p) && !ctl.probe(p.id).enabled) {
                ctl.enable(p.id);
                ++enabled;
            }
    return enabled;
}

void SessionProbes::rescan()
{
    for (auto& [pid, ctl] : controls_) {
        std::string now = maps_of(pid);
        if (now.empty() || now == maps_[pid])
            continue;
        maps_[pid] = std::move(now);
        try {
            if (ctl.check_libs())
                enable_matching(ctl);
        } catch (const ProbeError& e) {
            // Gone during the scan: its exit record, next, closes its probes.
            if (e.code() != ProbeErrc::BadPid)
                diagnose_("cannot enable the probes newly mapped in pid " + std::to_string(pid) +
                          ": " + e.what());
        }
    }
}

void SessionProbes::attach(pid_t pid, bool required)
{
    if (patterns_.empty())
        return;
    // An exec's old image: its pending hits go out before the exec does.
    detach(pid);
    try {
        // Before the scan: whatever is mapped after it changes this.
        std::string maps = maps_of(pid);
        // Quiet: a traced process's unreadable objects are not the user's concern.
        auto ctl = ProbeControl::open_pid(pid, [](const std::string&) {});
        enable_matching(ctl);
        maps_[pid] = std::move(maps);
        ctl.on_hit([this](const ProbeHit& hit) {
            ProbeEvent ev{hit.pid,         hit.tid, hit.time_ns, hit.probe->provider,
                          hit.probe->name, {},      {}};
            for (const auto& v : hit.args) {
                ev.args.push_back(v.value);
                ev.is_signed.push_back(v.is_signed);
            }
            deliver_(ev);
        });
        controls_.emplace(pid, std::move(ctl));
    } catch (const ProbeError& e) {
        // No probes, or gone already: nothing to enable.
        if (e.code() == ProbeErrc::NoProbes || e.code() == ProbeErrc::BadPid)
            return;
        const std::string message =
            "cannot enable the probes of pid " + std::to_string(pid) + ": " + e.what();
        if (required)
            throw Error("run", message);
        diagnose_(message);
    }
}

void SessionProbes::detach(pid_t pid)
{
    const auto it = controls_.find(pid);
    if (it == controls_.end())
        return;
    it->second.poll(0);
    lost_closed_ += it->second.lost();
    controls_.erase(it);
    maps_.erase(pid);
}

void SessionProbes::poll(pid_t pid)
{
    for (auto& [id, ctl] : controls_)
        if (pid == 0 || id == pid)
            ctl.poll(0);
}

std::uint64_t SessionProbes::lost() const
{
    std::uint64_t n = lost_closed_;
    for (const auto& [pid, ctl] : controls_)
        n += ctl.lost();
    return n;
}

} // namespace pctx::detail
