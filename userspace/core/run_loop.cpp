// Session::run: one thread, one epoll over the kernel's ring buffer, a
// timerfd with absolute deadlines for ticks, and an eventfd for terminate().
// Records are dispatched in order; a tick first drains what came before it.
#include "core/session_impl.hpp"

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

static Drain drain_ring(Session::Impl& s, detail::TargetContext& ctx, int* consumed = nullptr)
{
    std::exception_ptr thrown;
    const detail::LifecycleLoader::RecordFn fn = [&](const pctx_record& rec, std::size_t size) {
        try {
            s.probes_before(rec);
            if (rec.type == PCTX_REC_ENTER)
                s.target.enter(ctx, rec);
            else if (rec.type == PCTX_REC_LEAVE)
                s.target.leave(ctx, rec);
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

    // Built once: the loader and counters stay as they are while run() runs.
    detail::TargetContext ctx = target_context();
    unsigned left = nsamples; // 0: unlimited
    // When the ring last showed life (records, or a wakeup). A drain can find
    // nothing while a record is still being written on another CPU, one that
    // will not wake us (see PCTX_WAKEUP_INTERVAL_NS): until the ring has been
    // quiet for two intervals, look again every interval.
    std::uint64_t ring_active_ns = monotonic_ns();
    std::uint64_t rescanned_ns = monotonic_ns();
    for (;;) {
        int consumed = 0;
        const Drain d = drain_ring(*this, ctx, &consumed);
        // Libraries loaded since (dlopen) may hold probes to enable.
        if (probes && monotonic_ns() - rescanned_ns >= kRescanNs) {
            rescanned_ns = monotonic_ns();
            probes->rescan();
        }
        check_losses();
        if (reconciling)
            reconciling = dispatcher.reconcile(monotonic_ns());
        if (d == Drain::Broken) {
            diagnose("lost control of pid " + std::to_string(target.pid()) +
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
        const Drain before = drain_ring(*this, ctx);
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
