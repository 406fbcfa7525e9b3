// Capturing running processes: existing threads announced, later events
// seen, the process untouched after release, two tracers at once.
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using testsupport::Child;
using testsupport::EventLog;
using testsupport::target;

namespace {

// Stops a session at the lwp_exit of the first thread created after capture.
void stop_after_first_lwp_exit(pctx::Session& s)
{
    auto inner = s.handlers().lwp_exit;
    s.handlers().lwp_exit = [inner, &s](const pctx::LwpEvent& ev) {
        inner(ev);
        s.stop();
    };
}

} // namespace

TEST_CASE("capture announces existing threads, sees new ones, and lets go", "[bpf][capture]")
{
    Child proc({target("parked_threads"), "8"});
    REQUIRE(proc.read_line() == "ready");

    auto session = pctx::Session::attach(proc.pid());
    EventLog log;
    log.attach_to(session);
    stop_after_first_lwp_exit(session);
    // Once the 8 threads are announced, ask the process for one more.
    auto announce = session.handlers().init_lwp;
    session.handlers().init_lwp = [&, announce](const pctx::LwpEvent& ev) {
        announce(ev);
        if (log.count("init_lwp") == 8)
            proc.send("t");
    };
    CHECK(session.run() == pctx::RunResult::Stopped);
    session.release();
    INFO(log.dump());

    const auto inits = log.of_kind("init_lwp");
    REQUIRE(inits.size() == 9);
    std::set<pid_t> first8;
    for (std::size_t i = 0; i < 8; ++i)
        first8.insert(inits[i].tid);
    CHECK(first8.size() == 8);
    CHECK(first8.count(proc.pid()) == 1);
    CHECK(log.count("lwp_create") == 1);
    CHECK(log.count("lwp_exit") == 1);
    CHECK(log.of_kind("lwp_create")[0].tid == inits[8].tid);

    // Released, the process runs on and still answers.
    CHECK(testsupport::alive(proc.pid()));
    REQUIRE(proc.read_line() == "t");
    proc.send("t");
    CHECK(proc.read_line() == "t");
    proc.close_stdin();
    const int status = proc.wait();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("two sessions capture the same process at once", "[bpf][capture]")
{
    Child proc({target("parked_threads"), "3"});
    REQUIRE(proc.read_line() == "ready");

    auto s1 = pctx::Session::attach(proc.pid());
    auto s2 = pctx::Session::attach(proc.pid());
    EventLog log1, log2;
    log1.attach_to(s1);
    log2.attach_to(s2);
    stop_after_first_lwp_exit(s1);
    stop_after_first_lwp_exit(s2);

    std::mutex m;
    std::condition_variable cv;
    int ready = 0;
    for (auto* s : {&s1, &s2}) {
        auto inner = s->handlers().init_lwp;
        s->handlers().init_lwp = [&, inner, n = 0](const pctx::LwpEvent& ev) mutable {
            inner(ev);
            if (++n == 3) {
                std::lock_guard<std::mutex> lock(m);
                ++ready;
                cv.notify_all();
            }
        };
    }
    pctx::RunResult r1{}, r2{};
    std::thread t1([&] { r1 = s1.run(); });
    std::thread t2([&] { r2 = s2.run(); });
    {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return ready == 2; });
    }
    proc.send("t");
    t1.join();
    t2.join();
    CHECK(r1 == pctx::RunResult::Stopped);
    CHECK(r2 == pctx::RunResult::Stopped);
    for (auto* log : {&log1, &log2}) {
        INFO(log->dump());
        CHECK(log->count("init_lwp") == 4);
        CHECK(log->count("lwp_create") == 1);
        CHECK(log->count("lwp_exit") == 1);
    }
    CHECK(log1.of_kind("lwp_create")[0].tid == log2.of_kind("lwp_create")[0].tid);
    s1.release();
    s2.release();
    CHECK(proc.read_line() == "t");
    CHECK(testsupport::alive(proc.pid()));
}

TEST_CASE("a captured process's exit ends the run", "[bpf][capture]")
{
    Child proc({target("parked_threads"), "2"});
    REQUIRE(proc.read_line() == "ready");
    auto session = pctx::Session::attach(proc.pid());
    EventLog log;
    log.attach_to(session);
    auto inner = session.handlers().init_lwp;
    session.handlers().init_lwp = [&, inner](const pctx::LwpEvent& ev) {
        inner(ev);
        if (log.count("init_lwp") == 2)
            proc.close_stdin();
    };
    CHECK(session.run() == pctx::RunResult::Finished);
    INFO(log.dump());
    CHECK(log.count("fini_lwp") == 2);
    REQUIRE(log.count("exit") == 1);
    const auto ex = session.target_exit();
    REQUIRE(ex);
    CHECK(ex->exit_code() == 0);
}
