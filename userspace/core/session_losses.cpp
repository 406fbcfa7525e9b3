// What the kernel could not do: its loss counters, read after each drain,
// reported by kind as they grow, and the reconciling they call for.
#include "core/session_impl.hpp"

#include <cstring>
#include <string>

namespace pctx {
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
    unseen_switches = stats.unseen_switches;
    LostCounts now = counts_of(stats);
    if (probes)
        now.probe_hits = probes->lost();
    if (now.total() == lost.total())
        return;
    const LostCounts fresh = minus(now, lost);
    lost = now;
    accounting.model().set_lost(lost);
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

} // namespace pctx
