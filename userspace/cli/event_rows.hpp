// The session's events as rows: each handler builds the row its event makes,
// with the counters it carries (counter_tracker), the process's command
// (the session's snapshot), and hands it on. Which rows a format prints is the
// writer's business; every row is handed on.
#pragma once

#include "cli/counter_tracker.hpp"
#include "cli/output/writer.hpp"
#include "cli/summary.hpp"
#include "pctx/pctx.hpp"

#include <functional>
#include <map>
#include <string>

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
    // The process's command line, as the session's model names it.
    const std::string& command(pid_t pid);

    CounterTracker& counters_;
    Summary& summary_;
    Emit emit_;
    const Session* session_ = nullptr;
    // The model's names, asked once per process: they change only at its
    // exec (dropped there) and go at its exit.
    std::map<pid_t, std::string> commands_;
};

} // namespace pctx::cli
