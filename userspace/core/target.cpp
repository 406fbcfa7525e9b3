// What a session traces, and how each joins: the started command, the
// captured processes, and a scope's (a cgroup's, the machine's) processes,
// those there at the start and those that enter or leave it later.
#include "core/target.hpp"

#include "common/clock.hpp"
#include "procfs/pid_namespace.hpp"
#include "procfs/procfs.hpp"
#include "scope/cgroup_scope.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace pctx::detail {
namespace {

UniqueFd open_pidfd(pid_t pid)
{
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

bool has_exited(const UniqueFd& pidfd)
{
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

} // namespace

Target Target::spawned(std::string program, std::unique_ptr<Spawner> spawner, Scope scope)
{
    Target t;
    t.pids_.push_back(spawner->target());
    t.root_ = t.pids_.front();
    t.program_ = std::move(program);
    t.spawner_ = std::move(spawner);
    t.spawned_ = true;
    t.scope_ = std::move(scope);
    return t;
}

Target Target::captured(const std::vector<pid_t>& pids, pid_t pidns, Scope scope)
{
    Target t;
    t.pids_ = pids;
    t.pidns_ = pidns;
    t.scope_ = std::move(scope);
    for (pid_t pid : pids)
        t.seen(pid); // refused before anything is loaded
    t.root_ = pids.empty() ? 0 : t.seen(pids.front());
    return t;
}

Target Target::scope(Scope scope)
{
    Target t;
    t.scope_ = std::move(scope);
    return t;
}

void Target::start(TargetContext& ctx, std::uint32_t flags)
{
    if (scope_.any())
        capture_scope(ctx);
    if (spawner_) {
        const pid_t target = pids_.front();
        const std::string p = std::to_string(target);
        if (int err = ctx.loader.track(target, flags | PCTX_TRACK_FIRST_EXEC); err != 0)
            throw Error("run", "cannot track pid " + p + ": " + std::strerror(err));
        ctx.dispatcher.add_spawned(target, monotonic_ns());
        // Counted from its first instruction: it is waiting, not yet run.
        if (int err = ctx.loader.seed_threads(target); err != 0)
            throw Error("run", "cannot count pid " + p + ": " + std::strerror(err));
        if (int err = spawner_->start(); err != 0) {
            ctx.loader.untrack(target);
            if (err == ENOENT || err == ENOTDIR)
                throw Error("run", program_not_found(program_));
            throw Error("run", "cannot execute program '" + program_ + "': " + std::strerror(err));
        }
        return;
    }
    for (pid_t pid : pids_)
        track_captured(ctx, pid, flags);
}

pid_t Target::seen(pid_t pid) const
{
    if (pidns_ == 0)
        return pid;
    const pid_t id = pid_seen_from(pid, pidns_);
    if (id == 0)
        throw Error("capture", "pid " + std::to_string(pid) +
                                   " is outside the pid namespace of pid " +
                                   std::to_string(pidns_) + ": it cannot be reported there");
    return id;
}

void Target::track_captured(TargetContext& ctx, pid_t host_pid, std::uint32_t flags) const
{
    // The loader and the events speak the reporting namespace's ids; /proc
    // and pidfds speak ours.
    const pid_t pid = seen(host_pid);
    const std::string p = std::to_string(pid);
    // The pidfd pins the process's identity: once tracked, it cannot die
    // unseen, and if it died first its pid must not be tracked for a stranger.
    UniqueFd pidfd = open_pidfd(host_pid);
    if (!pidfd)
        throw Error("run", "pid " + p + " doesn't exist");
    if (int err = ctx.loader.track(pid, flags); err != 0)
        throw Error("run", "cannot track pid " + p + ": " + std::strerror(err));
    if (has_exited(pidfd)) {
        ctx.loader.untrack(pid);
        throw Error("run", "pid " + p + " exited before it could be tracked");
    }
    // Threads born from here on are counted by BPF; these are the ones before.
    if (int err = ctx.loader.seed_threads(pid); err != 0)
        throw Error("run", "cannot count the threads of pid " + p + ": " + std::strerror(err));
    // Listed after tracking began, so a thread is either listed or reported.
    std::vector<pid_t> tids;
    for (pid_t tid : list_threads(host_pid))
        if (const pid_t id = pidns_ != 0 ? pid_seen_from(tid, pidns_) : tid)
            tids.push_back(id); // 0: gone since it was listed
    std::set<pid_t> uncounted;
    if (ctx.perf) {
        const std::set<pid_t> counted = counted_threads(ctx)[pid];
        for (pid_t tid : tids)
            if (counted.count(tid) == 0)
                uncounted.insert(tid);
    }
    ctx.dispatcher.add_captured(pid, tids, uncounted, monotonic_ns());
}

void Target::capture_scope(TargetContext& ctx) const
{
    std::vector<pid_t> pids;
    try {
        pids = scope_.all ? all_processes() : cgroup_processes(open_cgroup(scope_.cgroup));
    } catch (const std::exception& e) {
        throw Error("run", e.what());
    }
    const pid_t self = ::getpid();
    const pid_t supervisor = spawner_ ? spawner_->supervisor() : 0;
    // Each tracked first, then all seeded in one pass and checked in one
    // more: a machine's hundreds of processes cost two walks, not hundreds.
    std::vector<std::pair<pid_t, UniqueFd>> tracked;
    for (pid_t pid : pids) {
        // The tracer and its own helper are not traced; the targets are
        // tracked as such.
        if (pid == self || pid == supervisor || ctx.dispatcher.knows(pid) ||
            std::find(pids_.begin(), pids_.end(), pid) != pids_.end())
            continue;
        UniqueFd pidfd = open_pidfd(pid);
        if (!pidfd)
            continue; // gone since it was listed
        if (const int err = ctx.loader.track(pid, PCTX_TRACK_SCOPED | PCTX_TRACK_FOLLOW_FORK);
            err != 0) {
            ctx.diagnose("cannot track pid " + std::to_string(pid) + ": " + std::strerror(err) +
                         (err == E2BIG ? " (raise --max-tasks, Options::max_processes)" : ""));
            continue;
        }
        tracked.emplace_back(pid, std::move(pidfd));
    }
    if (const int err = ctx.loader.seed_threads(0); err != 0)
        throw Error("run", std::string("cannot count the threads of the scope's processes: ") +
                               std::strerror(err));
    // Listed after seeding, checked after listing: a thread born between
    // has the entry BPF gave it at birth.
    std::vector<std::pair<pid_t, std::vector<pid_t>>> listed;
    for (const auto& [pid, pidfd] : tracked) {
        if (has_exited(pidfd))
            ctx.loader.untrack(pid);
        else
            listed.emplace_back(pid, list_threads(pid));
    }
    const auto counted = counted_threads(ctx);
    for (const auto& [pid, tids] : listed)
        add_listed(ctx, pid, tids, counted, true);
}

void Target::add_listed(TargetContext& ctx, pid_t pid, const std::vector<pid_t>& tids,
                        const std::map<pid_t, std::set<pid_t>>& counted, bool at_start)
{
    std::set<pid_t> uncounted;
    if (ctx.perf) {
        const auto found = counted.find(pid);
        for (pid_t tid : tids)
            if (found == counted.end() || found->second.count(tid) == 0)
                uncounted.insert(tid);
    }
    ctx.dispatcher.add_captured(pid, tids, uncounted, monotonic_ns(), at_start);
}

void Target::enter(TargetContext& ctx, const pctx_record& rec) const
{
    Dispatcher& dispatcher = ctx.dispatcher;
    dispatcher.advance(rec.time_ns);
    if (dispatcher.knows(rec.pid))
        return; // captured at the start meanwhile
    dispatcher.rejoin(rec.pid);
    if (rec.flags & PCTX_ENTER_MOVED) {
        // BPF tracks it already; its threads are counted from here on.
        if (const int err = ctx.loader.seed_threads(rec.pid); err != 0)
            throw Error("run", "cannot count the threads of pid " + std::to_string(rec.pid) + ": " +
                                   std::strerror(err));
        const std::vector<pid_t> tids = list_threads(rec.pid);
        add_listed(ctx, rec.pid, tids, counted_threads(ctx), false);
        return;
    }
    // Born inside: BPF counts it from its first instruction.
    std::set<pid_t> uncounted;
    if (rec.flags & PCTX_REC_UNCOUNTED)
        uncounted.insert(rec.pid);
    dispatcher.add_captured(rec.pid, {rec.pid}, uncounted, rec.time_ns, false);
}

void Target::leave(TargetContext& ctx, const pctx_record& rec) const
{
    Dispatcher& dispatcher = ctx.dispatcher;
    dispatcher.advance(rec.time_ns);
    if (!dispatcher.knows(rec.pid))
        return;
    std::map<pid_t, CounterValues> totals;
    if (ctx.perf) {
        std::vector<ThreadEntry> entries;
        if (const int err = ctx.loader.take_threads(rec.pid, entries); err != 0)
            throw Error("run", "cannot read the counted threads of pid " + std::to_string(rec.pid) +
                                   ": " + std::strerror(err));
        for (const auto& e : entries) {
            CounterValues& v = totals[e.state.tid];
            for (std::size_t k = 0; k < ctx.perf->size(); ++k)
                v[k] = e.state.c[k].total;
        }
    }
    dispatcher.leave(rec.pid, totals, rec.time_ns);
}

bool Target::finished(const Dispatcher& dispatcher) const
{
    if (!scope_.any())
        return dispatcher.empty();
    return spawned_ && dispatcher.root_exit().has_value();
}

std::map<pid_t, std::set<pid_t>> Target::counted_threads(TargetContext& ctx)
{
    std::map<pid_t, std::set<pid_t>> out;
    if (!ctx.perf)
        return out;
    std::vector<ThreadEntry> sampled;
    if (const int err = ctx.loader.read_threads(sampled); err != 0)
        throw Error("run", std::string("cannot read the counted threads: ") + std::strerror(err));
    for (const auto& e : sampled)
        out[e.state.pid].insert(e.state.tid);
    return out;
}

} // namespace pctx::detail
