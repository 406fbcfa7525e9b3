// The perf events -c and -t may name, as list_events() reports them for this
// machine: choosing -t's counter, describing the list. -c is checked by the
// library's own parser (pctx::check_counters).
#pragma once

#include "pctx/pctx.hpp"

#include <string>
#include <vector>

namespace pctx::cli {

// -t's counter: cycles where a PMU counts them, else task-clock (CPU time in ns).
std::string tick_counter(const std::vector<EventInfo>& events);

// For --help: the names this machine can count, a few a line.
std::string countable_summary(const std::vector<EventInfo>& events);
// For `pctx-bpf list`: every event, software and hardware apart, each marked.
std::string full_listing(const std::vector<EventInfo>& events);

} // namespace pctx::cli
