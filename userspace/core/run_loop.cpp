// Session::run: one thread, one epoll over the kernel's ring buffer, a
// timerfd with absolute deadlines for ticks, and an eventfd for terminate().
// Records are dispatched in order; a tick first drains what came before it.
#include "core/session_impl.hpp"

#include "procfs/pid_namespace.hpp"
#include "procfs/procfs.hpp"
#include "scope/cgroup_scope.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>

namespace pctx {
namespace {

constexpr int kStopped = -ECANCELED;

enum class Drain { More, Stop, Broken };

// How long a consumer that found records waits before looking again,
// whether or not the kernel wakes it (see PCTX_WAKEUP_INTERVAL_NS).
constexpr int kRepollMs = static_cast<int>(PCTX_WAKEUP_INTERVAL_NS / 1000000ULL);

// How often traced processes' maps are compared for new probes (as probe
// trace does): reading every maps file each loop would cost more than a hit.
constexpr std::uint64_t kRescanNs = 200000000ULL;

detail::UniqueFd open_pidfd(pid_t pid)
{
    return detail::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

bool has_exited(const detail::UniqueFd& pidfd)
{
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

timespec to_timespec(std::uint64_t ns)
{
    return {static_cast<time_t>(ns / 1000000000ULL), static_cast<long>(ns % 1000000000ULL)};
}

} // namespace

void Session::Impl::diagnose(const std::string& message) const
{
    if (handlers.diagnostic)
        handlers.diagnostic("run", message);
}

void Session::Impl::probes_before(const pctx_record& rec)
{
    if (!probes || !dispatcher.knows(rec.pid))
        return;
    // A new image's probes are enabled before its exec is told, so that a
    // handler that sees the exec can rely on them; the command's first
    // image is what it was started for: that must work.
    if (rec.type == PCTX_REC_EXEC)
        probes->attach(rec.pid, (rec.flags & PCTX_EXEC_FIRST) != 0);
    // Hits come before the end they precede.
    if (rec.type == PCTX_REC_EXIT || rec.type == PCTX_REC_LEAVE)
        probes->poll(rec.pid);
}

void Session::Impl::probes_after(const pctx_record& rec)
{
    if (!probes)
        return;
    switch (rec.type) {
    case PCTX_REC_FORK:
        if (dispatcher.knows(rec.child))
            probes->attach(rec.child, false);
        break;
    case PCTX_REC_ENTER:
        if (dispatcher.knows(rec.pid))
            probes->attach(rec.pid, false);
        break;
    case PCTX_REC_EXIT:
    case PCTX_REC_LEAVE:
        if (!dispatcher.knows(rec.pid))
            probes->detach(rec.pid);
        break;
    default:
        break;
    }
}

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

namespace {

LostCounts counts_of(const pctx_stats& s)
{
    LostCounts c;
    c.fork = s.lost[PCTX_LOSS_FORK];
    c.lwp_create = s.lost[PCTX_LOSS_LWP_CREATE];
    c.exec = s.lost[PCTX_LOSS_EXEC];
    c.exit = s.lost[PCTX_LOSS_EXIT];
    c.lwp_exit = s.lost[PCTX_LOSS_LWP_EXIT];
    c.tracked_full = s.lost[PCTX_LOSS_TRACKED_FULL];
    c.threads_full = s.lost[PCTX_LOSS_THREADS_FULL];
    return c;
}

LostCounts minus(const LostCounts& a, const LostCounts& b)
{
    return LostCounts{a.fork - b.fork,
                      a.lwp_create - b.lwp_create,
                      a.exec - b.exec,
                      a.exit - b.exit,
                      a.lwp_exit - b.lwp_exit,
                      a.tracked_full - b.tracked_full,
                      a.threads_full - b.threads_full,
                      a.probe_hits - b.probe_hits};
}

} // namespace

void Session::Impl::check_losses()
{
    pctx_stats stats{};
    if (const int err = loader->stats(stats); err != 0)
        throw Error("run",
                    std::string("cannot read the kernel's loss counters: ") + std::strerror(err));
    LostCounts now = counts_of(stats);
    if (probes)
        now.probe_hits = probes->lost();
    if (now.total() == lost.total())
        return;
    const LostCounts fresh = minus(now, lost);
    lost = now;
    const std::uint64_t records =
        fresh.total() - fresh.tracked_full - fresh.threads_full - fresh.probe_hits;
    if (records > 0)
        diagnose(std::to_string(records) +
                 " events lost: the kernel's ring buffer was full (give it more room with "
                 "--ringbuf-size, Options::ring_buffer_bytes)");
    if (fresh.tracked_full > 0)
        diagnose(std::to_string(fresh.tracked_full) +
                 " forked children not followed: the tracked-process map is full (raise "
                 "--max-tasks, Options::max_processes)");
    if (fresh.threads_full > 0)
        diagnose(std::to_string(fresh.threads_full) +
                 " threads not counted: the counted-thread map is full (raise --max-tasks, "
                 "Options::max_threads)");
    if (fresh.probe_hits > 0)
        diagnose(std::to_string(fresh.probe_hits) +
                 " probe hits lost: their buffer was full (enable fewer probes)");
    if (handlers.lost)
        handlers.lost(LostEvent{fresh.total(), fresh, dispatcher.advance(monotonic_ns())});
    // Lost records leave processes and threads that ended unseen: look for
    // them until none is left waiting to be found gone.
    if (records > 0)
        reconciling = true;
}

static Drain drain_ring(Session::Impl& s, int* consumed = nullptr)
{
    std::exception_ptr thrown;
    const detail::LifecycleLoader::RecordFn fn = [&](const pctx_record& rec, std::size_t size) {
        try {
            s.probes_before(rec);
            if (rec.type == PCTX_REC_ENTER)
                s.on_enter(rec);
            else if (rec.type == PCTX_REC_LEAVE)
                s.on_leave(rec);
            else
                s.dispatcher.dispatch(rec, size);
            s.probes_after(rec);
        } catch (...) {
            thrown = std::current_exception();
            return kStopped;
        }
        return s.stop_requested ? kStopped : 0;
    };
    const int n = s.loader->consume(fn);
    if (thrown)
        std::rethrow_exception(thrown);
    // Hits after the records drained with them: a hit's time is never
    // before the last record's (Dispatcher::advance).
    if (s.probes && !s.stop_requested)
        s.probes->poll();
    if (n < 0 && n != kStopped)
        return Drain::Broken;
    if (consumed)
        *consumed = n;
    return s.stop_requested ? Drain::Stop : Drain::More;
}

RunResult Session::Impl::run(std::chrono::milliseconds interval, unsigned nsamples)
{
    if (running)
        throw Error("run", "run() was called from one of its own handlers: return from the "
                           "handler instead (stop() ends the run)");
    if (!loader)
        throw Error("run", "the session has been released");
    if (interval.count() < 0)
        throw Error("run", "the sampling interval must not be negative");
    running = true;
    struct Done {
        Impl& s;
        ~Done()
        {
            s.running = false;
            if (s.release_pending)
                s.release();
        }
    } done{*this};
    return run_loop(interval, nsamples);
}

RunResult Session::Impl::run_loop(std::chrono::milliseconds interval, unsigned nsamples)
{
    stop_requested = false;
    if (!started) {
        started = true;
        start_target();
    }
    if (interval.count() == 0)
        nsamples = 0;

    detail::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    detail::UniqueFd timer;
    enum : std::uint32_t { kRing, kWake, kTimer };
    auto watch = [&](int fd, std::uint32_t tag) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = tag;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
            throw Error("run", std::string("cannot wait for events: ") + std::strerror(errno));
    };
    if (!ep)
        throw Error("run", std::string("cannot wait for events: ") + std::strerror(errno));
    watch(loader->ring_fd(), kRing);
    watch(wake.get(), kWake);
    if (interval.count() > 0) {
        timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        const auto period = static_cast<std::uint64_t>(interval.count()) * 1000000ULL;
        itimerspec its{to_timespec(period), to_timespec(monotonic_ns() + period)};
        if (!timer || ::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &its, nullptr) != 0)
            throw Error("run",
                        std::string("cannot start the sample timer: ") + std::strerror(errno));
        watch(timer.get(), kTimer);
    }

    unsigned left = nsamples; // 0: unlimited
    // When the ring last showed life (records, or a wakeup). A drain can find
    // nothing while a record is still being written on another CPU, one that
    // will not wake us (see PCTX_WAKEUP_INTERVAL_NS): until the ring has been
    // quiet for two intervals, look again every interval.
    std::uint64_t ring_active_ns = monotonic_ns();
    std::uint64_t rescanned_ns = monotonic_ns();
    for (;;) {
        int consumed = 0;
        const Drain d = drain_ring(*this, &consumed);
        // Libraries loaded since (dlopen) may hold probes to enable.
        if (probes && monotonic_ns() - rescanned_ns >= kRescanNs) {
            rescanned_ns = monotonic_ns();
            probes->rescan();
        }
        check_losses();
        if (reconciling)
            reconciling = dispatcher.reconcile(monotonic_ns());
        if (d == Drain::Broken) {
            diagnose("lost control of pid " + std::to_string(target) +
                     ": the kernel's event stream failed");
            return RunResult::ControlLost;
        }
        if (d == Drain::Stop)
            return RunResult::Stopped;
        if (finished())
            return RunResult::Finished;

        epoll_event evs[3];
        if (consumed != 0)
            ring_active_ns = monotonic_ns();
        const bool lately =
            reconciling || monotonic_ns() - ring_active_ns < 2 * PCTX_WAKEUP_INTERVAL_NS;
        // Probe hits wake nobody until a batch is buffered: look every
        // interval while probes are on.
        const int n = ::epoll_wait(ep.get(), evs, 3, lately || probes ? kRepollMs : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            diagnose(std::string("lost control: cannot wait for events: ") + std::strerror(errno));
            return RunResult::ControlLost;
        }
        bool tick_due = false;
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.u32 == kRing)
                ring_active_ns = monotonic_ns();
            if (evs[i].data.u32 == kWake) {
                std::uint64_t v;
                (void)!::read(wake.get(), &v, sizeof(v));
                return RunResult::Stopped;
            }
            if (evs[i].data.u32 == kTimer) {
                std::uint64_t expirations = 0;
                if (::read(timer.get(), &expirations, sizeof(expirations)) > 0) {
                    // Behind schedule: the missed deadlines are skipped, and
                    // count as samples unless only one is left to take.
                    for (std::uint64_t k = 1; k < expirations && left > 1; ++k)
                        --left;
                    tick_due = true;
                }
            }
        }
        if (!tick_due)
            continue;
        // The sample's time is taken first: every record from before it is
        // then delivered before the tick, so times never go backwards.
        const std::uint64_t sample_ns = monotonic_ns();
        const Drain before = drain_ring(*this);
        if (before == Drain::Stop)
            return RunResult::Stopped;
        if (finished())
            return RunResult::Finished;
        if (perf) {
            dispatcher.tick_all(sample_ns, &counter_snapshot());
        } else {
            dispatcher.tick_all(sample_ns, nullptr);
        }
        if (stop_requested || (left != 0 && --left == 0))
            return RunResult::Stopped;
    }
}

} // namespace pctx
