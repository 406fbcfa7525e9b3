// A session feeding `pctx-bpf top`'s model: what it watches (its scope), its
// handlers, and its own timed ticks, one run() per refresh. Each tick reads
// every thread's counters in one kernel pass (the library's batched read);
// nothing here reads a thread on its own.
#pragma once

#include "views/top_model.hpp"

#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pctx::detail {

struct TopScope {
    enum class Kind {
        All,     // every process on the machine (-a)
        Pids,    // running processes (-p), with their children when follow (-f)
        Cgroup,  // the processes of a cgroup v2 and its descendants (--cgroup)
        Command, // a command top starts (-- CMD), with its children
    };
    Kind kind = Kind::All;
    std::vector<pid_t> pids;
    bool follow = false;
    std::string cgroup;
    std::vector<std::string> command;
};

// The session for a scope, counting counters (Options::counters). Throws
// pctx::Error, e.g. for a scope this library cannot watch yet.
pctx::Session open_top_session(const TopScope& scope, const std::string& counters);

// What `pctx-bpf top` was asked for.
struct TopSettings {
    TopScope scope;
    std::string counters = "task-clock,context-switches,page-faults";
    std::chrono::milliseconds interval{2000};
};

class TopFeed {
public:
    TopFeed(const TopScope& scope, const std::string& counters, std::chrono::milliseconds interval);
    TopFeed(const TopFeed&) = delete;
    TopFeed& operator=(const TopFeed&) = delete;

    enum class Step {
        Refreshed,   // a tick: the model has new rates
        Interrupted, // interrupt() came first
        Finished,    // every watched process has gone (the model is refreshed)
    };
    // Runs the session until the next refresh is due (or interrupt()).
    // Throws pctx::Error when the session loses control.
    Step step();
    // With births on, a fork ends step() early (Interrupted), at most every
    // 200 ms, so that a screen shows the newborn at once.
    void report_births(bool on) { report_births_ = on; }
    // Signal-safe: makes step() return Interrupted soon.
    void interrupt() noexcept { session_.terminate(); }

    TopModel& model() { return model_; }
    const pctx::Session& session() const { return session_; }
    const TopScope& scope() const { return scope_; }
    // The session's diagnostics since the last call (lost events, ...).
    std::vector<std::string> take_diagnostics();

private:
    void know(pid_t pid);

    TopScope scope_;
    pctx::Session session_;
    TopModel model_;
    std::chrono::milliseconds interval_;
    std::uint64_t next_ns_ = 0;
    bool ticked_ = false;
    bool report_births_ = false;
    std::uint64_t births_reported_ns_ = 0;
    std::uint64_t tick_ns_ = 0;
    std::vector<std::string> diagnostics_;
};

} // namespace pctx::detail
