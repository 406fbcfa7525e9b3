// perf event names as perf(1) spells them, turned into perf_event_attr.
#pragma once

#include "pctx/pctx.hpp"

#include <linux/perf_event.h>

#include <string>
#include <vector>

namespace pctx::detail {

struct CounterSpec {
    std::string name; // as requested, modifiers included
    perf_event_attr attr{};
    bool hardware = false;
    // CPU time in ns (cpu-clock, task-clock): counted as the scheduler's own
    // runtime, not read from the perf counter (see bpf/counters.bpf.h).
    bool cpu_time = false;
};

// Parses "cpu-clock,page-faults,instructions:u,r01c2": perf's names and
// aliases, :u/:k/:uk modifiers, raw rNNNN (up to 16 hex digits), no name
// twice, at most PCTX_MAX_COUNTERS. Throws std::invalid_argument with a
// message naming the bad event. The one parser: the CLI checks -c with it.
std::vector<CounterSpec> parse_counter_spec(const std::string& spec);

// Why the known event named base (a name or alias, no modifier) cannot be
// counted here, tried as known_events() tries it; empty when it can, or when
// base is not a known event (a raw one).
std::string unavailable_reason(const std::string& base);

// The events this table knows, each tried on this machine.
std::vector<EventInfo> known_events();

// Names of the events that can be counted here, comma-separated.
std::string available_event_names();

// Why an event failed to open with errno err: the reason alone, and the
// sentence that names the event too.
std::string open_failure_reason(const CounterSpec& spec, int err);
std::string explain_open_failure(const CounterSpec& spec, int err);

} // namespace pctx::detail
