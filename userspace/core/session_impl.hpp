// The state behind a pctx::Session, shared by the files that build it:
// session.cpp (creation and release), session_targets.cpp (what is traced
// and how each process joins), run_loop.cpp (the timed event loop),
// session_losses.cpp (the kernel's loss counters), session_counters.cpp
// (per-thread counters) and session_probes.cpp (USDT probes).
#pragma once

#include "core/accounting_feed.hpp"
#include "core/dispatcher.hpp"
#include "core/session_probes.hpp"
#include "counters/perf_events.hpp"
#include "loader/lifecycle_loader.hpp"
#include "common/unique_fd.hpp"
#include "pctx/pctx.hpp"
#include "spawn/spawner.hpp"

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

    // pid (ours) as Options::pidns sees it; throws Error when it cannot.
    pid_t seen(pid_t pid) const;

    // A cgroup or the machine is traced (Options::cgroup, system_wide).
    bool scoped() const { return options.system_wide || !options.cgroup.empty(); }
    // A process joined the scope / left it (PCTX_REC_ENTER, PCTX_REC_LEAVE).
    void on_enter(const pctx_record& rec);
    void on_leave(const pctx_record& rec);
    // run() has nothing left to follow: the tree is gone, or the command a
    // scope lasts for has exited.
    bool finished() const;

private:
    RunResult run_loop(std::chrono::milliseconds interval, unsigned nsamples);
    void start_target();
    void track_captured(pid_t pid, std::uint32_t flags);
    // The scope's processes now, each captured as a scoped process.
    void capture_scope();
    // A tracked process joins the dispatcher with the threads /proc listed
    // after its seeding, those missing from counted (counted_threads(),
    // taken after the listing) uncounted.
    void add_listed(pid_t pid, const std::vector<pid_t>& tids,
                    const std::map<pid_t, std::set<pid_t>>& counted, bool at_start);
    // Every counted thread's tid, by process, in one sampling pass.
    std::map<pid_t, std::set<pid_t>> counted_threads();
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
