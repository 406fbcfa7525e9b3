// pctx-bpf environment checks: what a session needs from this machine and
// this process (kernel features, capabilities, sysctls, seccomp, PMU), each
// found by asking the kernel, never by version numbers. `pctx-bpf doctor`
// prints them; sessions run the required ones before loading anything.
#pragma once

#include <pctx/export.h>

#include <string>
#include <vector>

namespace pctx {

enum class CheckStatus {
    Ok,
    Fail,    // a session needs this and it is missing
    Warn,    // missing, but only optional features need it (PMU, probes, cgroup scope)
    Unknown, // could not be told (another failure hides it)
};

struct Check {
    std::string name; // "CAP_BPF", "kernel.perf_event_paranoid", "ring buffer", ...
    CheckStatus status = CheckStatus::Ok;
    bool required = false; // a failure here stops a session
    std::string detail;    // what was found
    std::string fix;       // what to do, when not Ok
};

struct CheckOptions {
    bool counters = true; // per-thread counters (run -c): per-CPU software perf events
    bool probes = false;  // USDT probes, which need CAP_SYS_ADMIN (uprobes)
    bool pmu = true;      // try each hardware event (slow-ish: one open per CPU each)
};

// Runs every check, in a fixed order, each independent of the others.
PCTX_API std::vector<Check> check_environment(const CheckOptions& options = {});

// True when no required check failed.
PCTX_API bool environment_ready(const std::vector<Check>& checks);

// "ok", "FAIL", "warn", "unknown".
PCTX_API const char* status_name(CheckStatus status);

} // namespace pctx
