#include "core/session_probes.hpp"

#include <utility>

namespace pctx::detail {

SessionProbes::SessionProbes(std::vector<std::string> patterns,
                             std::function<void(const ProbeEvent&)> deliver,
                             std::function<void(const std::string&)> diagnose)
    : patterns_(std::move(patterns)), deliver_(std::move(deliver)), diagnose_(std::move(diagnose))
{
}

void SessionProbes::attach(pid_t pid, bool required)
{
    if (patterns_.empty())
        return;
    if (const auto old = controls_.find(pid); old != controls_.end()) {
        lost_closed_ += old->second.lost();
        controls_.erase(old);
    }
    try {
        // Quiet: a traced process's unreadable objects are not the user's concern.
        auto ctl = ProbeControl::open_pid(pid, [](const std::string&) {});
        bool any = false;
        for (const auto& p : ctl.probes())
            for (const auto& pattern : patterns_)
                if (probe_matches(pattern, p) && !ctl.probe(p.id).enabled) {
                    ctl.enable(p.id);
                    any = true;
                }
        if (!any)
            return;
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
