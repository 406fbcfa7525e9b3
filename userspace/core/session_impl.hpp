// The state behind a pctx::Session, shared by the files that build it:
// session.cpp (creation and release), run_loop.cpp (the timed event loop),
// session_losses.cpp (the kernel's loss counters), session_counters.cpp
// (per-thread counters) and session_probes.cpp (USDT probes).
#pragma once

#include "core/accounting_feed.hpp"
#include "core/dispatcher.hpp"
#include "core/session_probes.hpp"
#include "core/target.hpp"
#include "counters/perf_events.hpp"
#include "loader/lifecycle_loader.hpp"
#include "common/clock.hpp"
#include "common/unique_fd.hpp"
#include "pctx/pctx.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace pctx {

// Requested counters, their perf events open on every CPU.
struct Counting {
    std::unique_ptr<detail::PerfEventSet> perf; // null: none requested
    std::vector<std::string> names;
};

// Opens the events of a set_counters() spec; failures become Error(fn, ...).
Counting open_counters(const char* fn, const std::string& spec);

class Session::Impl {
public:
    Impl(Options opts, detail::Target what);

    RunResult run(std::chrono::milliseconds interval, unsigned nsamples);
    void release() noexcept;

    Options options;
    Handlers handlers;
    detail::Target target;                      // what is traced: a command, processes, a scope
    std::unique_ptr<detail::PerfEventSet> perf; // requested counters, or none
    std::vector<std::string> counter_names;
    std::unique_ptr<detail::LifecycleLoader> loader; // after perf: it counts with it
    detail::Dispatcher dispatcher{handlers, [this](pid_t pid) {
                                      if (loader)
                                          loader->forget_dead(pid);
                                  }};
    detail::UniqueFd wake; // eventfd: terminate() from anywhere
    // Session::snapshot()'s model, fed by the dispatcher (session_snapshot.cpp).
    detail::AccountingFeed accounting{[this](pid_t pid) {
        return proc_name(pid);
    }};
    std::string proc_name(pid_t reported) const; // /proc's command line of a reported pid
    bool started = false;
    bool stop_requested = false;
    bool running = false;         // inside run(): handlers are being called
    bool release_pending = false; // release() from a handler: done as run() returns
    LostCounts lost;              // reported so far
    std::uint64_t unseen_switches = 0;
    // Options::probes, enabled process by process; null without them.
    std::unique_ptr<detail::SessionProbes> probes;
    // What a record changes for the probes, before it is dispatched (exec:
    // enabled; an end: pending hits delivered) and after (fork, entry:
    // enabled; an end: closed).
    void probes_before(const pctx_record& rec);
    void probes_after(const pctx_record& rec);
    bool reconciling = false; // records were lost: look for what ended unseen

    // Takes the counters the loader was loaded with.
    void count_with(Counting counting);
    // Every counted thread's totals now, running ones up to this instant.
    // The map is reused by the next call.
    const detail::CounterSnapshot& counter_snapshot();
    detail::CounterSnapshot snapshot;
    std::vector<detail::ThreadEntry> sampled; // read_threads()'s output, reused
    bool with_current_slice(const detail::ThreadEntry& entry, pctx_thread& t) const;

    // What the target works with as processes come and go.
    detail::TargetContext target_context();
    // run() has nothing left to follow (Target::finished).
    bool finished() const { return target.finished(dispatcher); }

private:
    RunResult run_loop(std::chrono::milliseconds interval, unsigned nsamples);
    // Starts the target, and the probes of the processes it captures.
    void start_target();
    void check_losses();
    void diagnose(const std::string& message) const;
};

using detail::monotonic_ns;

// Loads the lifecycle program for a session (counting with perf, if given);
// BPF failures become Error(fn, ...).
std::unique_ptr<detail::LifecycleLoader> load_bpf(const char* fn, const Options& options,
                                                  const detail::PerfEventSet* perf);

} // namespace pctx
