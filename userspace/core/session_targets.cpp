// What a session traces, and how each joins: the started command, the
// captured processes, and a scope's (a cgroup's, the machine's) processes,
// those there at the start and those that enter or leave it later.
#include "core/session_impl.hpp"

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

namespace pctx {
namespace {

detail::UniqueFd open_pidfd(pid_t pid)
{
    return detail::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

bool has_exited(const detail::UniqueFd& pidfd)
{
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

} // namespace

void Session::Impl::start_target()
{
    if (!options.probes.empty())
        probes = std::make_unique<detail::SessionProbes>(
            options.probes,
            [this](const ProbeEvent& hit) {
                if (!handlers.probe)
                    return;
                ProbeEvent ev = hit;
                ev.time_ns = dispatcher.advance(hit.time_ns);
                handlers.probe(ev);
            },
            [this](const std::string& message) { diagnose(message); });
    std::uint32_t flags = 0;
    if (options.follow_forks)
        flags |= PCTX_TRACK_FOLLOW_FORK;
    if (options.stop_at_exec)
        flags |= PCTX_TRACK_STOP_AT_EXEC;
    const std::string p = std::to_string(target);

    if (scoped())
        capture_scope();
    if (spawned) {
        if (int err = loader->track(target, flags | PCTX_TRACK_FIRST_EXEC); err != 0)
            throw Error("run", "cannot track pid " + p + ": " + std::strerror(err));
        dispatcher.add_spawned(target, monotonic_ns());
        // Counted from its first instruction: it is waiting, not yet run.
        if (int err = loader->seed_threads(target); err != 0)
            throw Error("run", "cannot count pid " + p + ": " + std::strerror(err));
        if (int err = spawner->start(); err != 0) {
            loader->untrack(target);
            release();
            if (err == ENOENT || err == ENOTDIR)
                throw Error("run", detail::program_not_found(program));
            throw Error("run", "cannot execute program '" + program + "': " + std::strerror(err));
        }
        return;
    }

    if (target != 0)
        track_captured(target, flags);
    for (pid_t pid : extra_targets)
        track_captured(pid, flags);
    if (probes) {
        if (target != 0)
            probes->attach(target, true);
        for (pid_t pid : extra_targets)
            probes->attach(pid, true);
    }
}

pid_t Session::Impl::seen(pid_t pid) const
{
    if (options.pidns == 0)
        return pid;
    const pid_t id = detail::pid_seen_from(pid, options.pidns);
    if (id == 0)
        throw Error("capture", "pid " + std::to_string(pid) +
                                   " is outside the pid namespace of pid " +
                                   std::to_string(options.pidns) + ": it cannot be reported there");
    return id;
}

void Session::Impl::track_captured(pid_t host_pid, std::uint32_t flags)
{
    // The loader and the events speak the reporting namespace's ids; /proc
    // and pidfds speak ours.
    const pid_t pid = seen(host_pid);
    const std::string p = std::to_string(pid);
    // The pidfd pins the process's identity: once tracked, it cannot die
    // unseen, and if it died first its pid must not be tracked for a stranger.
    detail::UniqueFd pidfd = open_pidfd(host_pid);
    if (!pidfd)
        throw Error("run", "pid " + p + " doesn't exist");
    if (int err = loader->track(pid, flags); err != 0)
        throw Error("run", "cannot track pid " + p + ": " + std::strerror(err));
    if (has_exited(pidfd)) {
        loader->untrack(pid);
        throw Error("run", "pid " + p + " exited before it could be tracked");
    }
    // Threads born from here on are counted by BPF; these are the ones before.
    if (int err = loader->seed_threads(pid); err != 0)
        throw Error("run", "cannot count the threads of pid " + p + ": " + std::strerror(err));
    // Listed after tracking began, so a thread is either listed or reported.
    std::vector<pid_t> tids;
    for (pid_t tid : detail::list_threads(host_pid))
        if (const pid_t id = options.pidns ? detail::pid_seen_from(tid, options.pidns) : tid)
            tids.push_back(id); // 0: gone since it was listed
    std::set<pid_t> uncounted;
    if (perf) {
        const std::set<pid_t> counted = counted_threads()[pid];
        for (pid_t tid : tids)
            if (counted.count(tid) == 0)
                uncounted.insert(tid);
    }
    dispatcher.add_captured(pid, tids, uncounted, monotonic_ns());
}

void Session::Impl::capture_scope()
{
    std::vector<pid_t> pids;
    try {
        pids = options.system_wide ? detail::all_processes()
                                   : detail::cgroup_processes(detail::open_cgroup(options.cgroup));
    } catch (const std::exception& e) {
        throw Error("run", e.what());
    }
    const pid_t self = ::getpid();
    const pid_t supervisor = spawner ? spawner->supervisor() : 0;
    // Each tracked first, then all seeded in one pass and checked in one
    // more: a machine's hundreds of processes cost two walks, not hundreds.
    std::vector<std::pair<pid_t, detail::UniqueFd>> tracked;
    for (pid_t pid : pids) {
        // The tracer and its own helper are not traced; the targets are
        // tracked as such.
        if (pid == self || pid == supervisor || pid == target || dispatcher.knows(pid) ||
            std::find(extra_targets.begin(), extra_targets.end(), pid) != extra_targets.end())
            continue;
        detail::UniqueFd pidfd = open_pidfd(pid);
        if (!pidfd)
            continue; // gone since it was listed
        if (const int err = loader->track(pid, PCTX_TRACK_SCOPED | PCTX_TRACK_FOLLOW_FORK);
            err != 0) {
            diagnose("cannot track pid " + std::to_string(pid) + ": " + std::strerror(err) +
                     (err == E2BIG ? " (raise --max-tasks, Options::max_processes)" : ""));
            continue;
        }
        tracked.emplace_back(pid, std::move(pidfd));
    }
    if (const int err = loader->seed_threads(0); err != 0)
        throw Error("run", std::string("cannot count the threads of the scope's processes: ") +
                               std::strerror(err));
    // Listed after seeding, checked after listing: a thread born between
    // has the entry BPF gave it at birth.
    std::vector<std::pair<pid_t, std::vector<pid_t>>> listed;
    for (const auto& [pid, pidfd] : tracked) {
        if (has_exited(pidfd))
            loader->untrack(pid);
        else
            listed.emplace_back(pid, detail::list_threads(pid));
    }
    const auto counted = counted_threads();
    for (const auto& [pid, tids] : listed)
        add_listed(pid, tids, counted, true);
}

void Session::Impl::add_listed(pid_t pid, const std::vector<pid_t>& tids,
                               const std::map<pid_t, std::set<pid_t>>& counted, bool at_start)
{
    std::set<pid_t> uncounted;
    if (perf) {
        const auto found = counted.find(pid);
        for (pid_t tid : tids)
            if (found == counted.end() || found->second.count(tid) == 0)
                uncounted.insert(tid);
    }
    dispatcher.add_captured(pid, tids, uncounted, monotonic_ns(), at_start);
}

void Session::Impl::on_enter(const pctx_record& rec)
{
    dispatcher.advance(rec.time_ns);
    if (dispatcher.knows(rec.pid))
        return; // captured at the start meanwhile
    dispatcher.rejoin(rec.pid);
    if (rec.flags & PCTX_ENTER_MOVED) {
        // BPF tracks it already; its threads are counted from here on.
        if (const int err = loader->seed_threads(rec.pid); err != 0)
            throw Error("run", "cannot count the threads of pid " + std::to_string(rec.pid) + ": " +
                                   std::strerror(err));
        const std::vector<pid_t> tids = detail::list_threads(rec.pid);
        add_listed(rec.pid, tids, counted_threads(), false);
        return;
    }
    // Born inside: BPF counts it from its first instruction.
    std::set<pid_t> uncounted;
    if (rec.flags & PCTX_REC_UNCOUNTED)
        uncounted.insert(rec.pid);
    dispatcher.add_captured(rec.pid, {rec.pid}, uncounted, rec.time_ns, false);
}

void Session::Impl::on_leave(const pctx_record& rec)
{
    dispatcher.advance(rec.time_ns);
    if (!dispatcher.knows(rec.pid))
        return;
    std::map<pid_t, detail::CounterValues> totals;
    if (perf) {
        std::vector<detail::ThreadEntry> entries;
        if (const int err = loader->take_threads(rec.pid, entries); err != 0)
            throw Error("run", "cannot read the counted threads of pid " + std::to_string(rec.pid) +
                                   ": " + std::strerror(err));
        for (const auto& e : entries) {
            detail::CounterValues& v = totals[e.state.tid];
            for (std::size_t k = 0; k < perf->size(); ++k)
                v[k] = e.state.c[k].total;
        }
    }
    dispatcher.leave(rec.pid, totals, rec.time_ns);
}

bool Session::Impl::finished() const
{
    if (!scoped())
        return dispatcher.empty();
    return spawned && dispatcher.root_exit().has_value();
}

std::map<pid_t, std::set<pid_t>> Session::Impl::counted_threads()
{
    std::map<pid_t, std::set<pid_t>> out;
    if (!perf)
        return out;
    if (const int err = loader->read_threads(sampled); err != 0)
        throw Error("run", std::string("cannot read the counted threads: ") + std::strerror(err));
    for (const auto& e : sampled)
        out[e.state.pid].insert(e.state.tid);
    return out;
}

} // namespace pctx
