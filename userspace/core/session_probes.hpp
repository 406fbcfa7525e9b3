// A session's USDT probes (Options::probes): enabled in each traced process
// when it forks or execs, closed when it exits, their hits delivered to
// handlers().probe between the lifecycle records.
#pragma once

#include "pctx/pctx.hpp"
#include "pctx/probes.hpp"

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pctx::detail {

class SessionProbes {
public:
    // deliver gets each hit; diagnose each process whose probes could not
    // be enabled for a reason other than having none.
    SessionProbes(std::vector<std::string> patterns, std::function<void(const ProbeEvent&)> deliver,
                  std::function<void(const std::string&)> diagnose);

    bool empty() const { return patterns_.empty(); }
    // pid has a new image (exec) or was just born (fork): its matching
    // probes are enabled, any enabled before are dropped. With required, a
    // failure to enable (permission, above all) throws Error("run", ...).
    void attach(pid_t pid, bool required);
    // Its pending hits are delivered, then its probes closed.
    void detach(pid_t pid);
    // Delivers every pending hit (of pid only, when given).
    void poll(pid_t pid = 0);
    // Libraries mapped or unmapped since (dlopen, dlclose): probes of new
    // objects that match are enabled, those of unmapped ones go. Reads
    // each process's maps: call it every few hundred milliseconds.
    void rescan();
    // Hits lost so far (the probes' buffers were full).
    std::uint64_t lost() const;

private:
    std::vector<std::string> patterns_;
    std::function<void(const ProbeEvent&)> deliver_;
    std::function<void(const std::string&)> diagnose_;
    std::map<pid_t, ProbeControl> controls_;
    std::map<pid_t, std::string> maps_; // each process's maps when last scanned
    // Enables the probes of ctl that match and are not yet; how many.
    int enable_matching(ProbeControl& ctl);
    std::uint64_t lost_closed_ = 0; // of controls closed since
};

} // namespace pctx::detail
