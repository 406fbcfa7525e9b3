// Session's per-thread counters: requesting them (perf events opened per CPU,
// the BPF program loaded, or by set_counters() reloaded, to count with them)
// and reading them.
#include "core/session_impl.hpp"

#include "counter_math.h"
#include "counters/event_table.hpp"

#include <cstring>
#include <stdexcept>

namespace pctx {
namespace {

// A running thread's current slice, as BPF will add it at switch-out.
std::uint64_t live_delta(const detail::PerfReading& now, const pctx_thread& t, std::size_t k)
{
    const pctx_counter_state& c = t.c[k];
    // Times read by BPF and by read() ahead of them (another clock's view)
    // would wrap: count the slice unscaled then, as an event never
    // multiplexed is.
    if (now.counter < c.start)
        return 0;
    if (now.enabled < c.start_enabled || now.running < c.start_running)
        return now.counter - c.start;
    return pctx_scale(now.counter - c.start, now.enabled - c.start_enabled,
                      now.running - c.start_running);
}

} // namespace

std::vector<EventInfo> list_events()
{
    return detail::known_events();
}

CounterCheck check_counters(const std::string& spec)
{
    CounterCheck check;
    std::vector<detail::CounterSpec> specs;
    try {
        specs = detail::parse_counter_spec(spec);
    } catch (const std::invalid_argument& e) {
        check.error = e.what();
        return check;
    }
    // Only the events named are tried, not every event list_events() knows.
    for (const auto& c : specs) {
        const std::string reason = detail::unavailable_reason(c.name.substr(0, c.name.find(':')));
        if (!reason.empty()) {
            check.error = "event '" + c.name + "' cannot be counted here: " + reason;
            check.usage = false;
            return check;
        }
        check.names.push_back(c.name);
    }
    return check;
}

Counting open_counters(const char* fn, const std::string& spec)
{
    std::vector<detail::CounterSpec> specs;
    try {
        specs = detail::parse_counter_spec(spec);
    } catch (const std::invalid_argument& e) {
        throw Error(fn, e.what());
    }
    Counting counting;
    try {
        counting.perf = std::make_unique<detail::PerfEventSet>(specs);
    } catch (const std::runtime_error& e) {
        throw Error(fn, std::string(e.what()) +
                            "; events countable here: " + detail::available_event_names());
    }
    for (const auto& c : specs)
        counting.names.push_back(c.name);
    return counting;
}

void Session::Impl::count_with(Counting counting)
{
    perf = std::move(counting.perf);
    counter_names = std::move(counting.names);
}

void Session::set_counters(const std::string& spec)
{
    Impl& s = *impl_;
    if (s.started)
        throw Error("set_counters", "counters must be chosen before the first run");
    Counting counting = open_counters("set_counters", spec);
    // Nothing is tracked before the first run, so the program can be replaced.
    auto loader = load_bpf("set_counters", s.options, counting.perf.get());
    s.loader = std::move(loader);
    s.count_with(std::move(counting));
}

void Session::set_limits(std::size_t ring_buffer_bytes, std::uint32_t max_tasks)
{
    Impl& s = *impl_;
    if (s.started)
        throw Error("set_limits", "limits must be set before the first run");
    Options next = s.options;
    if (ring_buffer_bytes != 0)
        next.ring_buffer_bytes = ring_buffer_bytes;
    if (max_tasks != 0)
        next.max_processes = next.max_threads = max_tasks;
    // Nothing is tracked before the first run, so the program can be replaced.
    s.loader = load_bpf("set_limits", next, s.perf.get());
    s.options = next;
}

const std::vector<std::string>& Session::counter_names() const
{
    return impl_->counter_names;
}

std::vector<CounterValue> Session::read_counters(pid_t pid, pid_t tid) const
{
    detail::CounterValues values{};
    if (!impl_->dispatcher.counters_of(pid, tid, values))
        throw Error("read_counters", "no counters for pid " + std::to_string(pid) + " tid " +
                                         std::to_string(tid) +
                                         ": read them in a handler of that thread's event");
    std::vector<CounterValue> out;
    for (std::size_t k = 0; k < impl_->counter_names.size(); ++k)
        out.push_back(CounterValue{impl_->counter_names[k], values[k]});
    return out;
}

// A running thread's state with its current slice added to the totals of
// its counters read from perf (time counters come from its runtime, see
// counter_snapshot()), into t. The entry is read again after the counters:
// if it changed meanwhile, the thread switched, and the second reading is
// its up-to-date state, which holds the slice read before. False when the
// thread ended meanwhile: a tick without its live slice would fall below
// the tick before, and its fini_lwp, next, has its totals.
bool Session::Impl::with_current_slice(const detail::ThreadEntry& entry, pctx_thread& t) const
{
    t = entry.state;
    for (int attempt = 0; t.on_cpu && attempt < 3; ++attempt) {
        detail::CounterValues live{};
        for (std::size_t k = 0; k < perf->size(); ++k) {
            detail::PerfReading now;
            // A start BPF could not read is no base: BPF estimates that
            // slice at switch-out instead, so the sample leaves it out.
            if (!perf->specs()[k].cpu_time && (t.start_valid & (1U << k)) != 0 &&
                perf->read(k, static_cast<int>(t.cpu), now))
                live[k] = live_delta(now, t, k);
        }
        pctx_thread again{};
        if (loader->read_thread(entry.kernel_tid, again) != 0)
            return false;
        if (again.seq == t.seq) {
            for (std::size_t k = 0; k < perf->size(); ++k)
                t.c[k].total += live[k];
            break;
        }
        t = again;
    }
    return true;
}

const detail::CounterSnapshot& Session::Impl::counter_snapshot()
{
    detail::CounterSnapshot& snap = snapshot;
    snap.clear();
    if (!perf)
        return snap;
    if (const int err = loader->read_threads(sampled); err != 0)
        throw Error("run", std::string("cannot sample the counted threads: ") + std::strerror(err));
    for (const auto& entry : sampled) {
        // Most threads sleep: only a running one needs a copy to add to.
        pctx_thread live;
        const pctx_thread* t = &entry.state;
        if (t->on_cpu) {
            if (!with_current_slice(entry, live))
                continue;
            t = &live;
        }
        // Time counters: what the scheduler has accounted since the last
        // switch-out seen, the clock BPF ends the slice with, so a sample
        // never exceeds the total that follows it (it lags by under a tick).
        std::uint64_t since_out = entry.rt_now - t->rt_last_out;
        if (entry.rt_now < t->rt_last_out || since_out >= (1ULL << 40))
            since_out = 0;
        detail::CounterValues& v = snap[detail::thread_key(t->pid, t->tid)];
        for (std::size_t k = 0; k < perf->size(); ++k)
            v[k] = t->c[k].total + (perf->specs()[k].cpu_time ? since_out : 0);
    }
    return snap;
}

} // namespace pctx
