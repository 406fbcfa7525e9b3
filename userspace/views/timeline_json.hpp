// Reads a `pctx-bpf run --format json` recording into a Timeline.
#pragma once

#include "views/timeline_model.hpp"

#include <optional>
#include <string>

namespace pctx::detail {

// One JSON line as a TimelineEvent; empty when the line is not a pctx-bpf row.
std::optional<TimelineEvent> timeline_event_of(const std::string& line);

// Throws pctx::Error("plot", ...) when the file cannot be read, a line is not
// a pctx-bpf JSON row, or there is no event at all.
Timeline read_timeline(const std::string& path);

} // namespace pctx::detail
