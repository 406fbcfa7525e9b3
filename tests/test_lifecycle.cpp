// Lifecycle events of spawned commands, through the C++ API, against the
// real kernel: exits, threads, forks, execs, many short-lived children.
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <map>
#include <set>

using testsupport::EventLog;
using testsupport::target;

namespace {

struct Traced {
    EventLog log;
    pctx::RunResult result;
    std::optional<pctx::ExitEvent> exit;
    pid_t pid;
};

Traced trace(const std::vector<std::string>& argv, const pctx::Options& options = {})
{
    auto session = pctx::Session::spawn(argv, options);
    Traced t{};
    t.log.attach_to(session);
    t.pid = session.pid();
    t.result = session.run();
    t.exit = session.target_exit();
    return t;
}

} // namespace

TEST_CASE("a command's exit status reaches the exit event", "[bpf][lifecycle]")
{
    auto t = trace({"/bin/sh", "-c", "exit 3"});
    INFO(t.log.dump());
    CHECK(t.result == pctx::RunResult::Finished);
    REQUIRE(t.exit);
    CHECK(t.exit->exited());
    CHECK(t.exit->exit_code() == 3);
    CHECK(t.exit->shell_status() == 3);
    // exec first (with its arguments), then init_lwp, fini_lwp and exit.
    const auto& ev = t.log.events();
    REQUIRE(ev.size() == 4);
    CHECK(ev[0].kind == "exec");
    CHECK(ev[0].args == "/bin/sh -c exit 3");
    CHECK(ev[1].kind == "init_lwp");
    CHECK(ev[2].kind == "fini_lwp");
    CHECK(ev[3].kind == "exit");
    CHECK(ev[3].pid == t.pid);
}

TEST_CASE("a command killed by SIGKILL is reported as a signal death", "[bpf][lifecycle]")
{
    auto t = trace({"/bin/sh", "-c", "kill -9 $$"});
    INFO(t.log.dump());
    REQUIRE(t.exit);
    CHECK_FALSE(t.exit->exited());
    CHECK(t.exit->signal() == SIGKILL);
    CHECK(t.exit->shell_status() == 128 + SIGKILL);
}

TEST_CASE("50 threads: each gets init_lwp, lwp_create, fini_lwp, lwp_exit once, in order",
          "[bpf][lifecycle]")
{
    auto t = trace({target("threads"), "50"});
    INFO(t.log.dump());
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 0);
    CHECK(t.log.count("lwp_create") == 50);
    CHECK(t.log.count("lwp_exit") == 50);
    CHECK(t.log.count("lost") == 0);

    std::map<pid_t, std::vector<std::string>> per_thread;
    for (const auto& e : t.log.events())
        if (e.tid != t.pid && e.pid == t.pid)
            per_thread[e.tid].push_back(e.kind);
    REQUIRE(per_thread.size() == 50);
    const std::vector<std::string> expected{"init_lwp", "lwp_create", "fini_lwp", "lwp_exit"};
    for (const auto& [tid, kinds] : per_thread) {
        INFO("tid " << tid);
        CHECK(kinds == expected);
    }
    // The main thread: init after exec, fini before exit, once each.
    CHECK(t.log.count("init_lwp") == 51);
    CHECK(t.log.count("fini_lwp") == 51);
}

TEST_CASE("a fork chain 20 deep is followed to the bottom", "[bpf][lifecycle]")
{
    pctx::Options follow;
    follow.follow_forks = true;
    auto t = trace({target("forkchain"), "20"}, follow);
    INFO(t.log.dump());
    CHECK(t.result == pctx::RunResult::Finished);
    const auto forks = t.log.of_kind("fork");
    REQUIRE(forks.size() == 20);
    std::set<pid_t> pids{t.pid};
    for (const auto& f : forks) {
        CHECK(pids.count(f.pid) == 1); // the parent was already known
        pids.insert(f.child);
        // The child's init_lwp comes right after its fork.
        const auto at = t.log.find("init_lwp", f.child, f.child);
        REQUIRE(at != std::string::npos);
        CHECK(at > t.log.find("fork", f.pid, f.tid));
        CHECK(t.log.count("exit", f.child) == 1);
    }
    CHECK(pids.size() == 21);
    CHECK(t.log.count("exit") == 21);
}

TEST_CASE("without following, children are not reported", "[bpf][lifecycle]")
{
    auto t = trace({target("forkchain"), "5"});
    INFO(t.log.dump());
    CHECK(t.log.count("fork") == 0);
    CHECK(t.log.count("exit") == 1);
    for (const auto& e : t.log.events())
        CHECK(e.pid == t.pid);
}

TEST_CASE("exec from the main thread ends the old threads and starts the new image",
          "[bpf][lifecycle]")
{
    auto t = trace({target("exec_from_thread"), "main", "/bin/sh", "-c", "exit 7"});
    INFO(t.log.dump());
    const auto execs = t.log.of_kind("exec");
    REQUIRE(execs.size() == 2);
    CHECK(execs[1].args == "/bin/sh -c exit 7");
    CHECK(execs[1].tid == t.pid);
    // Three threads lived in the old image: all get fini_lwp before the exec.
    std::size_t second_exec = 0;
    for (std::size_t i = 0; i < t.log.events().size(); ++i)
        if (t.log.events()[i].kind == "exec")
            second_exec = i;
    std::size_t fini_before = 0;
    for (std::size_t i = 0; i < second_exec; ++i)
        fini_before += t.log.events()[i].kind == "fini_lwp";
    CHECK(fini_before == 3);
    CHECK(t.log.count("lwp_exit") == 0); // killed by the exec, not exited
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 7);
}

TEST_CASE("exec from a non-leader thread keeps the pid", "[bpf][lifecycle]")
{
    auto t = trace({target("exec_from_thread"), "thread", "/bin/sh", "-c", "exit 5"});
    INFO(t.log.dump());
    const auto execs = t.log.of_kind("exec");
    REQUIRE(execs.size() == 2);
    CHECK(execs[1].pid == t.pid);
    CHECK(execs[1].tid != t.pid); // the thread that called exec, by its old tid
    CHECK(execs[1].args == "/bin/sh -c exit 5");
    // Four threads lived in the old image (main, two parked, the exec'ing one).
    const auto second = t.log.find("exec", t.pid, execs[1].tid);
    std::set<pid_t> finished;
    for (std::size_t i = 0; i < second; ++i)
        if (t.log.events()[i].kind == "fini_lwp")
            finished.insert(t.log.events()[i].tid);
    CHECK(finished.size() == 4);
    CHECK(finished.count(execs[1].tid) == 1);
    // After the exec the process runs as one thread, with the pid as its tid.
    const auto init_after = t.log.find("init_lwp", t.pid, t.pid, second);
    CHECK(init_after == second + 1);
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 5);
    CHECK(t.log.count("lwp_exit") == 0);
}

TEST_CASE("exit_group() from a thread: exit names that thread, and nobody exited alone",
          "[bpf][lifecycle]")
{
    auto t = trace({target("exit_from_thread"), "caller"});
    INFO(t.log.dump());
    const auto created = t.log.of_kind("lwp_create");
    REQUIRE(created.size() == 3); // two parked, then the caller
    const auto exits = t.log.of_kind("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits[0].tid == created[2].tid);
    CHECK(t.log.count("fini_lwp") == 4);
    CHECK(t.log.count("lwp_exit") == 0); // three killed, one the caller
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 7);
}

TEST_CASE("abort() in a thread: a signal death, every thread killed, no caller", "[bpf][lifecycle]")
{
    auto t = trace({target("exit_from_thread"), "abort"});
    INFO(t.log.dump());
    CHECK(t.log.count("lwp_create") == 3);
    CHECK(t.log.count("fini_lwp") == 4);
    CHECK(t.log.count("lwp_exit") == 0);
    REQUIRE(t.exit);
    CHECK_FALSE(t.exit->exited());
    CHECK(t.exit->signal() == SIGABRT);
}

TEST_CASE("main's pthread_exit() is its own lwp_exit; the last thread ends the process",
          "[bpf][lifecycle]")
{
    auto t = trace({target("exit_from_thread"), "last"});
    INFO(t.log.dump());
    const auto created = t.log.of_kind("lwp_create");
    REQUIRE(created.size() == 1);
    const auto alone = t.log.of_kind("lwp_exit");
    REQUIRE(alone.size() == 1);
    CHECK(alone[0].tid == t.pid);
    const auto exits = t.log.of_kind("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits[0].tid == created[0].tid);
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 0);
}

TEST_CASE("a failed exec changes nothing and sends no event", "[bpf][lifecycle]")
{
    auto t = trace({target("exec_from_thread"), "fail"});
    INFO(t.log.dump());
    CHECK(t.log.count("exec") == 1); // the command's own
    CHECK(t.log.count("init_lwp") == 1);
    CHECK(t.log.count("fini_lwp") == 1);
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 0);
}

TEST_CASE("2000 short-lived children: none missed, nothing lost", "[bpf][lifecycle][slow]")
{
    pctx::Options follow;
    follow.follow_forks = true;
    auto t = trace({target("spawn_many"), "2000"}, follow);
    REQUIRE(t.exit);
    CHECK(t.exit->exit_code() == 0);
    CHECK(t.log.count("lost") == 0);
    CHECK(t.log.count("fork") == 2000);
    CHECK(t.log.count("exec") == 2001);
    CHECK(t.log.count("exit") == 2001);
    std::set<pid_t> children;
    for (const auto& f : t.log.of_kind("fork"))
        children.insert(f.child);
    CHECK(children.size() == 2000);
    for (const auto& e : t.log.of_kind("exit"))
        if (e.pid != t.pid)
            CHECK((children.count(e.pid) == 1 && WIFEXITED(e.wait_status)));
}
