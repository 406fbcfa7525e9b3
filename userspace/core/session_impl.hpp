// The state behind a pctx::Session, shared by the files that build it
// (session.cpp: start and stop; run_loop.cpp: the timed event loop).
#pragma once

#include "core/dispatcher.hpp"
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

class Session::Impl {
public:
    Impl(Options opts, pid_t pid, bool was_spawned);

    RunResult run(std::chrono::milliseconds interval, unsigned nsamples);
    void release() noexcept;

    Options options;
    Handlers handlers;
    pid_t target;
    bool spawned;
    std::string program; // spawned: argv[0] as given, for messages
    std::unique_ptr<detail::LifecycleLoader> loader;
    std::unique_ptr<detail::Spawner> spawner;
    detail::Dispatcher dispatcher{handlers};
    detail::UniqueFd wake; // eventfd: terminate() from anywhere
    bool started = false;
    bool stop_requested = false;
    std::uint64_t lost_reported = 0;

private:
    void start_target();
    // Dispatches what the ring holds; false when a handler asked to stop.
    bool drain();
    void check_losses();
    void diagnose(const std::string& message) const;
};

std::uint64_t monotonic_ns();

} // namespace pctx
