// Scopes: a cgroup v2 subtree (Options::cgroup, run --cgroup) and the whole
// machine (Options::system_wide, run -a). Real cgroups, real moves through
// cgroup.procs; the session runs on its own thread and the test waits on
// its events, never on time.
#include "pctx/libpctx.h"
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using testsupport::cgroup2_mount;

// This process's own cgroup directory.
std::string own_cgroup(const std::string& mount)
{
    std::ifstream self("/proc/self/cgroup");
    for (std::string line; std::getline(self, line);)
        if (line.rfind("0::", 0) == 0)
            return mount + (line.substr(3) == "/" ? "" : line.substr(3));
    return mount;
}

void move_to(const std::string& cgroup, pid_t pid)
{
    std::ofstream procs(cgroup + "/cgroup.procs");
    procs << pid << std::endl;
    REQUIRE(procs.good());
}

// A fresh leaf cgroup, removed at the end (its processes gone by then).
struct TempCgroup {
    std::string path;
    explicit TempCgroup(const std::string& parent)
        : path(parent + "/pctx-test-" + std::to_string(::getpid()))
    {
        ::rmdir(path.c_str());
        REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    }
    ~TempCgroup() { ::rmdir(path.c_str()); }
    TempCgroup(const TempCgroup&) = delete;
    TempCgroup& operator=(const TempCgroup&) = delete;
};

// One event as the session delivered it.
struct Seen {
    std::string kind;
    pid_t pid = 0;
    pid_t tid = 0;
    pid_t child = 0;
    bool at_start = false;
    std::uint64_t value = 0; // the first counter, where the event has it
    std::string command;
};

// A session's events, gathered on the run thread, awaited on this one.
class Watcher {
public:
    explicit Watcher(pctx::Session& s) : session_(s)
    {
        auto& h = s.handlers();
        auto first = [this](pid_t pid, pid_t tid) -> std::uint64_t {
            try {
                const auto v = session_.read_counters(pid, tid);
                return v.empty() ? 0 : v.front().value;
            } catch (const pctx::Error&) {
                return 0;
            }
        };
        h.init_lwp = [this](const pctx::LwpEvent& e) {
            add({"init_lwp", e.pid, e.tid, 0, e.at_start, 0, ""});
        };
        h.fini_lwp = [this, first](const pctx::LwpEvent& e) {
            add({"fini_lwp", e.pid, e.tid, 0, false, first(e.pid, e.tid), ""});
        };
        h.fork = [this](const pctx::ForkEvent& e) {
            add({"fork", e.pid, e.tid, e.child_pid, false, 0, ""});
        };
        h.exec = [this](const pctx::ExecEvent& e) {
            add({"exec", e.pid, e.tid, 0, false, 0, e.command_line()});
        };
        h.exit = [this, first](const pctx::ExitEvent& e) {
            add({"exit", e.pid, e.tid, 0, false, first(e.pid, e.tid), ""});
        };
        thread_ = std::thread([this] {
            try {
                result_ = session_.run();
            } catch (const pctx::Error& e) {
                error_ = e.what();
            }
        });
    }
    ~Watcher() { stop(); }
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    // Waits until the events so far satisfy done; false after 20 s (a
    // failure, not a timing).
    bool wait_until(const std::function<bool(const std::vector<Seen>&)>& done)
    {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(events_); });
    }
    void stop()
    {
        if (!thread_.joinable())
            return;
        session_.terminate();
        thread_.join();
    }
    std::vector<Seen> events()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_;
    }
    const std::string& error() const { return error_; }

private:
    void add(Seen s)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(s));
        cv_.notify_all();
    }
    pctx::Session& session_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Seen> events_;
    std::thread thread_;
    pctx::RunResult result_ = pctx::RunResult::Finished;
    std::string error_;
};

// A shell reading commands from its stdin: `run(cmd)` returns once cmd is done.
struct Shell {
    testsupport::Child child{{"/bin/sh"}};
    void run(const std::string& cmd)
    {
        child.send(cmd + "; echo done\n");
        REQUIRE(child.read_line() == "done");
    }
};

std::size_t count(const std::vector<Seen>& events, const std::string& kind, pid_t pid)
{
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const Seen& e) {
        return e.kind == kind && e.pid == pid;
    }));
}

// Waits for the n-th event of kind from pid.
std::function<bool(const std::vector<Seen>&)> nth(const std::string& kind, pid_t pid,
                                                  std::size_t n = 1)
{
    return [=](const std::vector<Seen>& events) {
        return count(events, kind, pid) >= n;
    };
}

} // namespace

TEST_CASE("a cgroup scope: processes in the cgroup, born in it and moved into it are traced with "
          "counters; those outside and moved out are not",
          "[bpf][scope]")
{
    const std::string mount = cgroup2_mount();
    const std::string home = own_cgroup(mount);
    TempCgroup cg(mount);
    Shell inside, outsider, mover;
    move_to(cg.path, inside.child.pid());

    pctx::Options options;
    options.cgroup = cg.path;
    options.counters = "task-clock";
    auto session = pctx::Session::watch(options);
    Watcher w(session);
    const pid_t in = inside.child.pid(), out = outsider.child.pid(), mv = mover.child.pid();
    REQUIRE(w.wait_until(nth("init_lwp", in)));

    // Born inside: a fork of a process in the cgroup, exec and exit with counts.
    outsider.run("/bin/true");
    inside.run("/bin/true");
    REQUIRE(w.wait_until(nth("fork", in)));

    // Moved in: it joins, and what it forks there is traced.
    move_to(cg.path, mv);
    REQUIRE(w.wait_until(nth("init_lwp", mv)));
    mover.run("/bin/true");
    REQUIRE(w.wait_until(nth("fork", mv)));
    // Moved out: let go, with its thread's total; its fork after is not seen.
    move_to(home, mv);
    REQUIRE(w.wait_until(nth("fini_lwp", mv)));
    mover.run("/bin/true");
    // A last fork inside, its child's exit awaited: whatever came before it
    // has been delivered by then.
    inside.run("/bin/true");
    REQUIRE(w.wait_until([&](const std::vector<Seen>& events) {
        if (count(events, "fork", in) < 2)
            return false;
        pid_t last = 0;
        for (const auto& e : events)
            if (e.kind == "fork" && e.pid == in)
                last = e.child;
        return count(events, "exit", last) == 1;
    }));
    w.stop();
    INFO(w.error());
    CHECK(w.error().empty());

    const auto events = w.events();
    std::size_t inside_exits = 0, counted_exits = 0;
    for (const auto& e : events) {
        CHECK(e.pid != out);
        if (e.kind == "exit" && e.pid != in && e.pid != mv) {
            ++inside_exits;
            counted_exits += e.value > 0 ? 1 : 0; // task-clock of /bin/true
        }
        if (e.kind == "init_lwp" && e.pid == in)
            CHECK(e.at_start);
        if (e.kind == "init_lwp" && e.pid == mv)
            CHECK(!e.at_start);
        if (e.kind == "fini_lwp" && e.pid == mv)
            CHECK(e.value > 0); // the shell ran to fork
    }
    CHECK(count(events, "fork", mv) == 1);
    CHECK(count(events, "fork", in) == 2);
    CHECK(inside_exits == 3); // two children of inside, one of the mover
    // Under qemu's TCG the scheduler's clock advances in steps: a /bin/true
    // shorter than a step has run 0 ns by the kernel's own account there.
    CHECK(counted_exits >= (std::getenv("PCTX_VMTEST") == nullptr ? 3U : 1U));
    CHECK(session.lost().total() == 0);
}

TEST_CASE("the whole machine: processes running at the start and every one born after are "
          "traced, the tracer itself is not",
          "[bpf][scope]")
{
    Shell before;
    pctx::Options options;
    options.system_wide = true;
    auto session = pctx::Session::watch(options);
    Watcher w(session);
    const pid_t b = before.child.pid();
    REQUIRE(w.wait_until(nth("init_lwp", b)));
    before.run("/bin/true");
    REQUIRE(w.wait_until([&](const std::vector<Seen>& events) {
        for (const auto& e : events)
            if (e.kind == "fork" && e.pid == b)
                return count(events, "exit", e.child) == 1;
        return false;
    }));
    w.stop();
    INFO(w.error());
    CHECK(w.error().empty());
    bool exec_seen = false;
    for (const auto& e : w.events()) {
        CHECK(e.pid != ::getpid());
        if (e.kind == "init_lwp" && e.pid == b)
            CHECK(e.at_start);
        exec_seen = exec_seen || (e.kind == "exec" && e.command == "/bin/true");
    }
    CHECK(exec_seen);
}

TEST_CASE("run -a -- COMMAND: the machine's processes for as long as the command runs, and its "
          "exit status",
          "[bpf][scope][cli]")
{
    Shell other;
    const auto r = clitest::run(
        {"run", "-a", "-T", "0", "--format", "json", "--", "/bin/sh", "-c", "/bin/true; exit 5"});
    INFO(r.err);
    CHECK(r.status == 5);
    bool command_seen = false, other_seen = false;
    for (const auto& e : clitest::json_lines(r.out)) {
        command_seen = command_seen || e.dump().find("\"/bin/true\"") != std::string::npos;
        other_seen = other_seen || e.value("pid", 0) == other.child.pid();
    }
    CHECK(command_seen);
    CHECK(other_seen); // captured at the start: its init_lwp
}

TEST_CASE("scopes refuse what cannot work, naming it, before anything loads", "[scope][cli]")
{
    auto usage = clitest::run({"run", "-a", "--cgroup", "/sys/fs/cgroup", "--", "true"});
    CHECK(usage.status == 2);
    CHECK(usage.err.find("give one") != std::string::npos);
    usage = clitest::run({"run", "-a", "--pidns", "1", "-p", "1"});
    CHECK(usage.status == 2);
    CHECK(usage.err.find("--pidns") != std::string::npos);
    const auto not_cgroup = clitest::run({"run", "--cgroup", "/tmp", "--", "true"});
    CHECK(not_cgroup.status == 1);
    CHECK(not_cgroup.err.find("not a cgroup v2 directory") != std::string::npos);
    const auto missing = clitest::run({"run", "--cgroup", "/nonexistent/cg", "--", "true"});
    CHECK(missing.status == 1);
    CHECK(missing.err.find("No such file") != std::string::npos);
    CHECK_THROWS_WITH(pctx::Session::watch({}), Catch::Contains("nothing to watch"));
}

namespace {
std::vector<pid_t> g_watched;
int note(pctx_t*, pid_t pid, id_t, void*)
{
    g_watched.push_back(pid);
    return 0;
}
int stop(pctx_t*, pid_t, id_t, void*)
{
    return 1;
}
std::string g_error;
void keep_error(const char*, const char* fmt, va_list ap)
{
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    g_error += buf;
}
} // namespace

TEST_CASE("pctx_watch: a cgroup's process through the C API, and a clear error for a path that "
          "is no cgroup",
          "[bpf][scope][capi]")
{
    const std::string mount = cgroup2_mount();
    TempCgroup cg(mount);
    Shell inside;
    move_to(cg.path, inside.child.pid());
    pctx_t* pctx = pctx_watch(cg.path.c_str(), nullptr, 0, keep_error);
    REQUIRE(pctx != nullptr);
    g_watched.clear();
    REQUIRE(pctx_set_events(pctx, PCTX_INIT_LWP_EVENT, note, PCTX_NULL_EVENT) == 0);
    CHECK(pctx_run(pctx, 20, 0, stop) == 0); // the first tick's non-zero ends it
    INFO(g_error);
    CHECK(g_watched == std::vector<pid_t>{inside.child.pid()});
    pctx_release(pctx);

    g_error.clear();
    CHECK(pctx_watch("/tmp", nullptr, 0, keep_error) == nullptr);
    CHECK(g_error.find("not a cgroup v2 directory") != std::string::npos);
}
