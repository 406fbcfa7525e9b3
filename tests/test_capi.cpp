// libpctx's C API: its callbacks, their arguments and order, and its rules
// (fork handler follows, no exec handler releases at exec, non-zero stops).
#include "pctx/libpctx.h"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdarg>
#include <string>
#include <thread>
#include <vector>

using testsupport::target;

namespace {

struct Recorder {
    std::vector<std::string> lines;
    int stop_on_init = 0; // init_lwp returns non-zero on this call (1-based)
    int inits = 0;
    int refuse_fini = 0; // fini_lwp and lwp_exit return this
    pctx_t* self = nullptr;
    int nested_run = -2; // what pctx_run returned when called from a handler
};

Recorder& rec(void* arg)
{
    return *static_cast<Recorder*>(arg);
}

std::string ids(pid_t a, long b)
{
    return std::to_string(a) + " " + std::to_string(b);
}

int on_exec(pctx_t*, pid_t pid, id_t tid, char* args, void* arg)
{
    rec(arg).lines.push_back("exec " + ids(pid, tid) + " " + args);
    return 0;
}
void on_fork(pctx_t*, pid_t ppid, pid_t child, id_t lwpid, void* arg)
{
    rec(arg).lines.push_back("fork " + ids(ppid, child) + " " + std::to_string(lwpid));
}
void on_proc_exit(pctx_t*, pid_t pid, id_t tid, int status, void* arg)
{
    rec(arg).lines.push_back("exit " + ids(pid, tid) + " " + std::to_string(status));
}
int on_init(pctx_t*, pid_t pid, id_t tid, void* arg)
{
    Recorder& r = rec(arg);
    r.lines.push_back("init_lwp " + ids(pid, tid));
    return ++r.inits == r.stop_on_init ? 1 : 0;
}
int on_fini(pctx_t*, pid_t pid, id_t tid, void* arg)
{
    rec(arg).lines.push_back("fini_lwp " + ids(pid, tid));
    return rec(arg).refuse_fini;
}
int on_lwp_create(pctx_t*, pid_t pid, id_t tid, void* arg)
{
    rec(arg).lines.push_back("lwp_create " + ids(pid, tid));
    return 0;
}
int on_lwp_exit(pctx_t*, pid_t pid, id_t tid, void* arg)
{
    rec(arg).lines.push_back("lwp_exit " + ids(pid, tid));
    return rec(arg).refuse_fini;
}
// Misuse from inside a handler: both must be refused, not crash.
int on_init_misuse(pctx_t* p, pid_t pid, id_t tid, void* arg)
{
    Recorder& r = rec(arg);
    r.lines.push_back("init_lwp " + ids(pid, tid));
    r.nested_run = pctx_run(p, 0, 0, nullptr);
    pctx_release(p);
    return 0;
}

std::string g_errors;
void collect(const char* fn, const char* fmt, va_list ap)
{
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    g_errors += std::string("pctx_") + fn + ": " + buf;
}
int on_tick(pctx_t*, pid_t pid, id_t tid, void* arg)
{
    rec(arg).lines.push_back("tick " + ids(pid, tid));
    return 0;
}

pctx_t* create(const std::vector<std::string>& argv, Recorder& r)
{
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    return pctx_create(cargv[0], cargv.data(), &r, 0, nullptr);
}

std::size_t count_prefix(const Recorder& r, const std::string& prefix)
{
    std::size_t n = 0;
    for (const auto& l : r.lines)
        n += l.rfind(prefix, 0) == 0;
    return n;
}

std::string dump(const Recorder& r)
{
    std::string s;
    for (const auto& l : r.lines)
        s += l + "\n";
    return s;
}

} // namespace

TEST_CASE("C: exit status of exit(3) and of SIGKILL", "[bpf][capi]")
{
    Recorder r;
    pctx_t* p = create({"/bin/sh", "-c", "exit 3"}, r);
    REQUIRE(p);
    REQUIRE(pctx_set_events(p, PCTX_SYSC_EXIT_EVENT, on_proc_exit, PCTX_NULL_EVENT) == 0);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_release(p);
    REQUIRE(r.lines.size() == 1);
    CHECK_THAT(r.lines[0], Catch::EndsWith(" 3"));

    Recorder k;
    p = create({"/bin/sh", "-c", "kill -9 $$"}, k);
    REQUIRE(p);
    pctx_set_events(p, PCTX_SYSC_EXIT_EVENT, on_proc_exit, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_release(p);
    REQUIRE(k.lines.size() == 1);
    CHECK_THAT(k.lines[0], Catch::EndsWith(" -9"));
}

TEST_CASE("C: the fork handler gets (ppid, childpid, lwpid) and children are followed",
          "[bpf][capi]")
{
    Recorder r;
    pctx_t* p = create({target("forkchain"), "2"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_SYSC_FORK_EVENT, on_fork, PCTX_SYSC_EXIT_EVENT, on_proc_exit,
                    PCTX_INIT_LWP_EVENT, on_init, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_release(p);
    INFO(dump(r));
    REQUIRE(count_prefix(r, "fork ") == 2);
    CHECK(count_prefix(r, "exit ") == 3);
    // The first fork: the target is the parent and its only thread forked.
    const auto first = std::find_if(r.lines.begin(), r.lines.end(),
                                    [](const std::string& l) { return l.rfind("fork ", 0) == 0; });
    pid_t ppid = 0, child = 0;
    long lwp = 0;
    REQUIRE(std::sscanf(first->c_str(), "fork %d %d %ld", &ppid, &child, &lwp) == 3);
    CHECK(lwp == ppid);
    CHECK(child != ppid);
    // The child's init_lwp follows its fork.
    CHECK(*(first + 1) == "init_lwp " + ids(child, child));
}

TEST_CASE("C: without an exec handler a run ends at the target's exec", "[bpf][capi]")
{
    Recorder r;
    // sh runs, then execs sleep: the first exec (of sh) never ends a run.
    pctx_t* p = create({"/bin/sh", "-c", "/bin/true; exec /bin/sleep 100"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_INIT_LWP_EVENT, on_init, PCTX_FINI_LWP_EVENT, on_fini,
                    PCTX_SYSC_EXIT_EVENT, on_proc_exit, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    INFO(dump(r));
    CHECK(count_prefix(r, "init_lwp ") == 1);
    CHECK(count_prefix(r, "fini_lwp ") == 1);
    CHECK(count_prefix(r, "exit ") == 0); // released at exec: sleep is not watched
    pctx_release(p);                      // and release kills what create started
}

TEST_CASE("C: with an exec handler, exec gets the new argument list", "[bpf][capi]")
{
    Recorder r;
    pctx_t* p = create({"/bin/sh", "-c", "/bin/true; exec /bin/echo one two"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_SYSC_EXEC_EVENT, on_exec, PCTX_INIT_LWP_EVENT, on_init,
                    PCTX_FINI_LWP_EVENT, on_fini, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_release(p);
    INFO(dump(r));
    REQUIRE(r.lines.size() == 6);
    CHECK_THAT(r.lines[0], Catch::StartsWith("exec ") && Catch::EndsWith(" /bin/sh -c /bin/true; "
                                                                         "exec /bin/echo one two"));
    CHECK_THAT(r.lines[1], Catch::StartsWith("init_lwp "));
    CHECK_THAT(r.lines[2], Catch::StartsWith("fini_lwp "));
    CHECK_THAT(r.lines[3], Catch::EndsWith(" /bin/echo one two"));
    CHECK_THAT(r.lines[4], Catch::StartsWith("init_lwp "));
    CHECK_THAT(r.lines[5], Catch::StartsWith("fini_lwp "));
}

TEST_CASE("C: ticks are delivered per thread and nsamples bounds them", "[bpf][capi]")
{
    Recorder r;
    pctx_t* p = create({"/bin/sleep", "100"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 50, 4, on_tick) == 0);
    pctx_release(p);
    INFO(dump(r));
    // A sample late by a whole period is skipped and counted, so at most 4.
    CHECK(count_prefix(r, "tick ") >= 3);
    CHECK(count_prefix(r, "tick ") <= 4);
}

TEST_CASE("C: an init_lwp of the start returning non-zero fails the run, as in libpctx",
          "[bpf][capi]")
{
    Recorder r;
    r.stop_on_init = 1;
    pctx_t* p = create({"/bin/sleep", "100"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_INIT_LWP_EVENT, on_init, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == -1);
    CHECK(count_prefix(r, "init_lwp ") == 1);
    pctx_release(p);
}

TEST_CASE("C: a later handler returning non-zero ends the run with 0, and calls nothing more",
          "[bpf][capi]")
{
    // threads 3: three threads in turn. The second init_lwp (the first
    // thread's) says stop: its lwp_create is not called, nor anything after.
    Recorder r;
    r.stop_on_init = 2;
    pctx_t* p = create({target("threads"), "3"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_INIT_LWP_EVENT, on_init, PCTX_SYSC_LWP_CREATE_EVENT, on_lwp_create,
                    PCTX_FINI_LWP_EVENT, on_fini, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    INFO(dump(r));
    CHECK(count_prefix(r, "init_lwp ") == 2);
    CHECK(count_prefix(r, "lwp_create ") == 0);
    CHECK(count_prefix(r, "fini_lwp ") == 0);
    pctx_release(p);
}

TEST_CASE("C: non-zero from fini_lwp and lwp_exit is ignored, as in libpctx", "[bpf][capi]")
{
    Recorder r;
    r.refuse_fini = 1;
    pctx_t* p = create({target("threads"), "3"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_INIT_LWP_EVENT, on_init, PCTX_FINI_LWP_EVENT, on_fini,
                    PCTX_SYSC_LWP_EXIT_EVENT, on_lwp_exit, PCTX_SYSC_EXIT_EVENT, on_proc_exit,
                    PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    INFO(dump(r));
    CHECK(count_prefix(r, "lwp_exit ") == 3);
    CHECK(count_prefix(r, "fini_lwp ") == 4);
    CHECK(count_prefix(r, "exit ") == 1);
    pctx_release(p);
}

TEST_CASE("C: misuse is refused through errfn, never a crash", "[bpf][capi]")
{
    g_errors.clear();
    CHECK(pctx_run(nullptr, 0, 0, nullptr) == -1);
    CHECK(pctx_read_counters(nullptr, 1, 1, nullptr, 0) == -1);
    CHECK(pctx_set_counters(nullptr, "cpu-clock") == -1);
    CHECK(pctx_set_events(nullptr, PCTX_NULL_EVENT) == -1);
    CHECK(pctx_lost(nullptr, nullptr) == -1);
    pctx_release(nullptr);

    Recorder r;
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    pctx_t* p = pctx_create("/bin/true", argv, &r, 0, collect);
    REQUIRE(p);
    r.self = p;
    CHECK(pctx_read_counters(p, 1, 1, nullptr, 4) == -1);
    CHECK_THAT(g_errors, Catch::Contains("values is NULL"));
    CHECK(pctx_set_events(p, 99, on_init, PCTX_NULL_EVENT) == -1);
    CHECK_THAT(g_errors, Catch::Contains("unknown event type 99"));
    // From a handler: pctx_run and pctx_release are refused, the run goes on.
    pctx_set_events(p, PCTX_INIT_LWP_EVENT, on_init_misuse, PCTX_SYSC_EXIT_EVENT, on_proc_exit,
                    PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    CHECK(r.nested_run == -1);
    CHECK_THAT(g_errors, Catch::Contains("pctx_run: called from one of its own handlers"));
    CHECK_THAT(g_errors, Catch::Contains("pctx_release: called from one of pctx_run's handlers"));
    CHECK(count_prefix(r, "exit ") == 1);
    pctx_lost_t lost{};
    CHECK(pctx_lost(p, &lost) == 0);
    CHECK(lost.fork + lost.exec + lost.exit + lost.tracked_full == 0);
    pctx_release(p);
    CHECK(testsupport::children_of_self().empty());
}

TEST_CASE("C: pctx_terminate ends a run from another thread", "[bpf][capi]")
{
    Recorder r;
    pctx_t* p = create({"/bin/sleep", "100"}, r);
    REQUIRE(p);
    pctx_set_events(p, PCTX_NULL_EVENT);
    int result = -2;
    std::thread runner([&] { result = pctx_run(p, 0, 0, nullptr); });
    pctx_terminate(p); // may come before the loop waits: it is remembered
    runner.join();
    CHECK(result == 0);
    pctx_release(p);
}

TEST_CASE("C: pctx_create runs filename with argv as given, argv[0] included", "[bpf][capi]")
{
    Recorder r;
    char* argv[] = {const_cast<char*>("renamed-shell"), const_cast<char*>("-c"),
                    const_cast<char*>("exit 0"), nullptr};
    pctx_t* p = pctx_create("/bin/sh", argv, &r, 0, nullptr);
    REQUIRE(p);
    pctx_set_events(p, PCTX_SYSC_EXEC_EVENT, on_exec, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_release(p);
    REQUIRE(r.lines.size() == 1);
    CHECK_THAT(r.lines[0], Catch::EndsWith(" renamed-shell -c exit 0"));
}

TEST_CASE("C: pctx_set_limits sizes the maps; what does not fit is counted by kind",
          "[bpf][capi][losses]")
{
    Recorder r;
    pctx_t* p = create({target("busy_threads"), "6", "300"}, r);
    REQUIRE(p);
    CHECK(pctx_set_limits(p, 5000, 2) == 0); // 5000 bytes: a ring of 8 KiB
    CHECK(pctx_set_counters(p, "task-clock") == 0);
    pctx_set_events(p, PCTX_NULL_EVENT);
    CHECK(pctx_run(p, 0, 0, nullptr) == 0);
    pctx_lost_t lost{};
    REQUIRE(pctx_lost(p, &lost) == 0);
    CHECK(lost.threads_full >= 1);          // 6 threads at once, room for 2
    CHECK(pctx_set_limits(p, 0, 16) == -1); // after the run: refused
    pctx_release(p);
}
