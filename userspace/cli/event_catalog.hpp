// The perf events -c and -t may name, as list_events() reports them for this
// machine: checking a -c argument, choosing -t's counter, describing the list.
#pragma once

#include "pctx/pctx.hpp"

#include <string>
#include <vector>

namespace pctx::cli {

constexpr std::size_t kMaxCounters = 8; // what the library counts at once

struct SetCheck {
    std::vector<std::string> names; // the set's events, as given
    std::string error;              // empty when the set is good
    bool usage = true;              // error: a usage error (status 2), else the machine's (1)
};

// One -c argument: comma-separated names of list_events(), or raw rNNNN (hex),
// each with an optional :u, :k or :uk. A known event this machine cannot count
// is an error too, naming the reason.
SetCheck check_counter_set(const std::string& spec, const std::vector<EventInfo>& events);

// -t's counter: cycles where a PMU counts them, else task-clock (CPU time in ns).
std::string tick_counter(const std::vector<EventInfo>& events);

// For --help: the names this machine can count, a few a line.
std::string countable_summary(const std::vector<EventInfo>& events);
// For `pctx-bpf list`: every event, software and hardware apart, each marked.
std::string full_listing(const std::vector<EventInfo>& events);

} // namespace pctx::cli
