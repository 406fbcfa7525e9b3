// The session's events as rows: each handler builds the row its event makes,
// with the counters it carries (counter_tracker), the process's command
// (process_names), and hands it on. Which rows a format prints is the
// writer's business; every row is handed on.
#pragma once

#include "cli/counter_tracker.hpp"
#include "cli/output/writer.hpp"
#include "cli/process_names.hpp"
#include "cli/summary.hpp"
#include "pctx/pctx.hpp"

#include <functional>

namespace pctx::cli {

class EventRows {
public:
    using Emit = std::function<void(const Row&)>;

    EventRows(CounterTracker& counters, Summary& summary, Emit emit)
        : counters_(counters), summary_(summary), emit_(std::move(emit))
    {
    }

    // Sets every handler of the session (diagnostics go to stderr).
    void install(Session& session);

private:
    Row row(const char* event, pid_t pid, pid_t tid, std::uint64_t time_ns);
    Row row(const char* event, const LwpEvent& ev);

    CounterTracker& counters_;
    Summary& summary_;
    Emit emit_;
    ProcessNames names_;
};

} // namespace pctx::cli
