// The state behind a pctx::Session, shared by the files that build it
// (session.cpp: start and stop; run_loop.cpp: the timed event loop).
#pragma once

#include "core/dispatcher.hpp"
#include "counters/perf_events.hpp"
#include "loader/lifecycle_loader.hpp"
#include "loader/unique_fd.hpp"
#include "pctx/pctx.hpp"
#include "spawn/spawner.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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
    Impl(Options opts, pid_t pid, bool was_spawned);

    RunResult run(std::chrono::milliseconds interval, unsigned nsamples);
    void release() noexcept;

    Options options;
    Handlers handlers;
    pid_t target;
    std::vector<pid_t> extra_targets; // more captured processes, beyond target
    bool spawned;
    std::string program;                        // spawned: argv[0] as given, for messages
    std::unique_ptr<detail::PerfEventSet> perf; // requested counters, or none
    std::vector<std::string> counter_names;
    std::unique_ptr<detail::LifecycleLoader> loader; // after perf: it counts with it
    std::unique_ptr<detail::Spawner> spawner;
    detail::Dispatcher dispatcher{handlers, [this](pid_t pid) {
                                      if (loader)
                                          loader->untrack(pid);
                                  }};
    detail::UniqueFd wake; // eventfd: terminate() from anywhere
    bool started = false;
    bool stop_requested = false;
    std::uint64_t lost_reported = 0;
    std::uint64_t thread_failed_reported = 0;

    // Takes the counters the loader was loaded with.
    void count_with(Counting counting);
    // Every counted thread's totals now, running ones up to this instant.
    // The map is reused by the next call.
    const detail::CounterSnapshot& counter_snapshot();
    detail::CounterSnapshot snapshot;
    pctx_thread with_current_slice(const detail::ThreadEntry& entry) const;

    // pid (ours) as Options::pidns sees it; throws Error when it cannot.
    pid_t seen(pid_t pid) const;

private:
    void start_target();
    void track_captured(pid_t pid, std::uint32_t flags);
    // Dispatches what the ring holds; false when a handler asked to stop.
    bool drain();
    void check_losses();
    void diagnose(const std::string& message) const;
};

std::uint64_t monotonic_ns();

// Loads the lifecycle program for a session (counting with perf, if given);
// BPF failures become Error(fn, ...).
std::unique_ptr<detail::LifecycleLoader> load_bpf(const char* fn, const Options& options,
                                                  const detail::PerfEventSet* perf);

} // namespace pctx
