// The C++ API across threads, for ThreadSanitizer (scripts/test-sanitizers
// runs [threads] in a TSan build): handlers run on run()'s thread while
// others read what they publish, terminate() comes from another thread or
// from a signal handler, and the session ends whole each time.
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using testsupport::target;

namespace {

std::atomic<pctx::Session*> g_session{nullptr};

void terminate_from_signal(int)
{
    if (pctx::Session* s = g_session.load())
        s->terminate();
}

// A command that runs until killed, its thread counted and ticked.
pctx::Session sleeper()
{
    pctx::Options options;
    options.counters = "task-clock";
    return pctx::Session::spawn({"/bin/sleep", "100"}, options);
}

// Counts ticks, reading counters in each; keeps the promise at the first:
// the run is well under way by then.
void count_ticks(pctx::Session& session, std::promise<void>& ticking, std::atomic<int>& ticks)
{
    session.handlers().tick = [&session, &ticking, &ticks](const pctx::LwpEvent& ev) {
        (void)session.read_counters(ev.pid, ev.tid);
        if (ticks.fetch_add(1) == 0)
            ticking.set_value();
    };
}

} // namespace

TEST_CASE("terminate() from another thread ends run() while handlers run", "[bpf][threads]")
{
    std::promise<void> ticking;
    std::atomic<int> ticks{0};
    auto session = sleeper();
    count_ticks(session, ticking, ticks);
    const pid_t pid = session.pid();
    std::future<pctx::RunResult> result =
        std::async(std::launch::async, [&] { return session.run(std::chrono::milliseconds(10)); });
    REQUIRE(ticking.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    session.terminate();
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(result.get() == pctx::RunResult::Stopped);
    CHECK(ticks.load() > 0);
    session.release();
    CHECK_FALSE(testsupport::alive(pid));
}

TEST_CASE("terminate() from a signal handler ends run()", "[bpf][threads]")
{
    std::promise<void> ticking;
    std::atomic<int> ticks{0};
    auto session = sleeper();
    count_ticks(session, ticking, ticks);
    g_session.store(&session);
    struct sigaction sa {};
    struct sigaction old {};
    sa.sa_handler = terminate_from_signal;
    sigemptyset(&sa.sa_mask);
    REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);

    // The signal is sent to run()'s own thread once it ticks.
    const pthread_t runner = ::pthread_self();
    std::thread signaller([&] {
        if (ticking.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready)
            ::pthread_kill(runner, SIGUSR1);
        else
            session.terminate(); // fail below rather than hang
    });
    const pctx::RunResult result = session.run(std::chrono::milliseconds(10));
    signaller.join();
    g_session.store(nullptr);
    ::sigaction(SIGUSR1, &old, nullptr);
    CHECK(result == pctx::RunResult::Stopped);
    CHECK(ticks.load() > 0);
}

TEST_CASE("sessions on several threads at once stay apart", "[bpf][threads]")
{
    constexpr int kSessions = 3;
    std::vector<std::future<int>> done;
    done.reserve(kSessions);
    for (int i = 0; i < kSessions; ++i)
        done.push_back(std::async(std::launch::async, [] {
            int exits = 0;
            auto session = pctx::Session::spawn({target("threads"), "4"});
            session.handlers().exit = [&exits](const pctx::ExitEvent&) {
                ++exits;
            };
            return session.run() == pctx::RunResult::Finished ? exits : -1;
        }));
    for (auto& d : done)
        CHECK(d.get() == 1);
}
