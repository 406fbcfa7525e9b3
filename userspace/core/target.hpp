// What a session traces, fixed when it is created, and how each of its
// processes joins the dispatcher: a started command, captured processes, a
// scope (a cgroup's processes, or every process this pid namespace sees),
// or a scope that lasts as long as a started command. A scope's processes
// join at the start and as they enter it later, and leave when moved out.
#pragma once

#include "core/dispatcher.hpp"
#include "counters/perf_events.hpp"
#include "loader/lifecycle_loader.hpp"
#include "spawn/spawner.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace pctx::detail {

// What a target works with while it starts and as processes come and go,
// all of it the session's.
struct TargetContext {
    LifecycleLoader& loader;
    Dispatcher& dispatcher;
    const PerfEventSet* perf; // null: nothing is counted
    std::function<void(const std::string&)> diagnose;
};

// A cgroup v2 subtree (its directory) or, with all, every process.
struct Scope {
    std::string cgroup;
    bool all = false;
    bool any() const { return all || !cgroup.empty(); }
};

class Target {
public:
    // A command started stopped before its exec; program is its name as
    // given, for messages.
    static Target spawned(std::string program, std::unique_ptr<Spawner> spawner, Scope scope);
    // Running processes, by this namespace's pids, and a scope's if any;
    // events report them as the pid namespace of process pidns sees them
    // (0: ours). Throws Error("capture", ...) for a pid that namespace
    // cannot see.
    static Target captured(const std::vector<pid_t>& pids, pid_t pidns, Scope scope);
    // A scope alone: no process of its own.
    static Target scope(Scope scope);

    // The command's pid, or the first captured one (ours); 0 for a scope alone.
    pid_t pid() const { return pids_.empty() ? 0 : pids_.front(); }
    // The pid events give it: root() of the dispatcher.
    pid_t root() const { return root_; }
    bool is_spawned() const { return spawned_; }
    const std::vector<pid_t>& captured_pids() const { return pids_; }

    // Tracks everything with flags (PCTX_TRACK_*), seeds its counters, and
    // lets the command go; throws Error("run", ...).
    void start(TargetContext& ctx, std::uint32_t flags);
    // A scope's process joined or left it (PCTX_REC_ENTER, PCTX_REC_LEAVE).
    void enter(TargetContext& ctx, const pctx_record& rec) const;
    void leave(TargetContext& ctx, const pctx_record& rec) const;
    // Nothing left to follow: the tree is gone, or the command a scope
    // lasts for has exited.
    bool finished(const Dispatcher& dispatcher) const;
    // Kills a started command's tree (the supervisor does); nothing for
    // captured processes, which are let go as the BPF links close.
    void release() noexcept { spawner_.reset(); }

private:
    Target() = default;
    // pid (ours) as pidns_ sees it; throws Error("capture", ...) when it cannot.
    pid_t seen(pid_t pid) const;
    void track_captured(TargetContext& ctx, pid_t host_pid, std::uint32_t flags) const;
    void capture_scope(TargetContext& ctx) const;
    // A tracked process joins with the threads /proc listed after its
    // seeding, those missing from counted (taken after the listing) uncounted.
    static void add_listed(TargetContext& ctx, pid_t pid, const std::vector<pid_t>& tids,
                           const std::map<pid_t, std::set<pid_t>>& counted, bool at_start);
    // Every counted thread's tid, by process, in one sampling pass.
    static std::map<pid_t, std::set<pid_t>> counted_threads(TargetContext& ctx);

    std::vector<pid_t> pids_; // the command, or the captured processes (ours)
    pid_t root_ = 0;
    pid_t pidns_ = 0;
    std::string program_;
    std::unique_ptr<Spawner> spawner_;
    bool spawned_ = false; // a command was started (stays so after release())
    Scope scope_;
};

} // namespace pctx::detail
