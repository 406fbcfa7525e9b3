// Session::snapshot() and the accounting model behind it: what a snapshot
// shows of a real tree against the events the handlers saw, copies taken
// from another thread while run() runs, an exec's rename and fold, and the
// model's delta and fold rules fed by hand.
#include "accounting/accounting.hpp"
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using testsupport::target;

namespace {

std::uint64_t cpu_clock(const pctx::Session& session, pid_t pid, pid_t tid)
{
    const auto values = session.read_counters(pid, tid);
    REQUIRE(values.size() == 1);
    return values.front().value;
}

// What the handlers saw of one process.
struct Seen {
    std::string command;
    std::set<pid_t> threads;
    std::uint64_t finished = 0; // cpu-clock of its threads' fini_lwp, every image
    bool exited = false;
};

pctx::Options counting()
{
    pctx::Options options;
    options.follow_forks = true;
    options.counters = "cpu-clock";
    return options;
}

} // namespace

TEST_CASE("snapshot: a tick sees every live process named and its threads; totals fold at the end",
          "[bpf][snapshot]")
{
    const std::string burn = target("burn_threads");
    auto session = pctx::Session::spawn(
        {"/bin/sh", "-c", burn + " 150 150 >/dev/null & " + burn + " 200 >/dev/null; wait"},
        counting());
    std::map<pid_t, Seen> seen;
    auto& h = session.handlers();
    h.exec = [&](const pctx::ExecEvent& ev) {
        seen[ev.pid].command = ev.command_line();
    };
    h.fork = [&](const pctx::ForkEvent& ev) {
        if (ev.followed)
            seen[ev.child_pid].command = seen[ev.pid].command;
    };
    h.init_lwp = [&](const pctx::LwpEvent& ev) {
        seen[ev.pid].threads.insert(ev.tid);
        if (ev.at_start) // the command starts here: threads before were the spawner's
            seen[ev.pid].finished = 0;
    };
    h.fini_lwp = [&](const pctx::LwpEvent& ev) {
        seen[ev.pid].threads.erase(ev.tid);
        if (!ev.uncounted)
            seen[ev.pid].finished += cpu_clock(session, ev.pid, ev.tid);
    };
    h.exit = [&](const pctx::ExitEvent& ev) {
        seen[ev.pid].exited = true;
    };
    std::map<pid_t, std::uint64_t> ended_totals; // as the snapshots showed them
    std::uint64_t round = 0;
    std::size_t most_burners = 0;
    h.tick = [&](const pctx::LwpEvent& ev) {
        if (ev.time_ns == round)
            return; // one snapshot a sampling round
        round = ev.time_ns;
        const pctx::Snapshot s = session.snapshot();
        REQUIRE(s.counter_names == std::vector<std::string>{"cpu-clock"});
        std::set<pid_t> live;
        std::size_t burners = 0;
        for (const auto& p : s.processes) {
            REQUIRE(p.totals.size() == 1);
            if (p.ended) {
                CHECK(seen[p.pid].exited);
                ended_totals[p.pid] = p.totals.front();
                continue;
            }
            live.insert(p.pid);
            INFO("pid " << p.pid);
            CHECK(p.command == seen[p.pid].command);
            std::set<pid_t> tids;
            for (const auto& t : p.threads)
                tids.insert(t.tid);
            CHECK(tids == seen[p.pid].threads);
            burners += p.command.rfind(burn, 0) == 0 ? 1 : 0;
        }
        std::set<pid_t> expected;
        for (const auto& [pid, what] : seen)
            if (!what.exited)
                expected.insert(pid);
        CHECK(live == expected);
        most_burners = std::max(most_burners, burners);
    };
    REQUIRE(session.run(std::chrono::milliseconds(20)) == pctx::RunResult::Finished);
    CHECK(most_burners == 2); // a tick saw both burners running, named by their exec

    for (const auto& p : session.snapshot().processes) {
        CHECK(p.ended);
        ended_totals[p.pid] = p.totals.front();
    }
    REQUIRE(seen.size() == 3);
    for (const auto& [pid, what] : seen) {
        INFO("pid " << pid << " " << what.command);
        CHECK(what.exited);
        REQUIRE(ended_totals.count(pid) == 1);
        CHECK(ended_totals[pid] == what.finished);
    }
    // Ended processes are dropped once a full snapshot has shown them.
    CHECK(session.snapshot().processes.empty());
}

TEST_CASE("snapshot: copies taken from another thread while run() runs are consistent",
          "[bpf][snapshot]")
{
    auto session =
        pctx::Session::spawn({"/bin/sh", "-c",
                              target("burn_threads") + " 100 100 100 >/dev/null & " +
                                  target("forkchain") + " 30; " + target("threads") + " 200; wait"},
                             counting());
    std::atomic<bool> done{false};
    // Catch's assertions are for the test's own thread: the reader keeps
    // the first inconsistency it finds for the checks after the run.
    std::string broken;
    std::size_t copies = 0, with_threads = 0;
    std::thread reader([&] {
        while (!done.load() && broken.empty()) {
            const pctx::Snapshot s = session.snapshot();
            ++copies;
            for (const auto& p : s.processes) {
                const std::string where = "pid " + std::to_string(p.pid) + ": ";
                if (p.totals.size() != 1) {
                    broken = where + "totals of " + std::to_string(p.totals.size()) + " counters";
                    break;
                }
                std::uint64_t live = 0;
                for (const auto& t : p.threads) {
                    if (t.totals.size() != 1 || t.delta.size() != 1 ||
                        t.delta.front() > t.totals.front())
                        broken = where + "thread " + std::to_string(t.tid) + " inconsistent";
                    else
                        live += t.totals.front();
                }
                if (p.totals.front() < live)
                    broken = where + "totals " + std::to_string(p.totals.front()) +
                             " below its live threads' " + std::to_string(live);
                with_threads += p.threads.empty() ? 0 : 1;
            }
        }
    });
    pctx::RunResult result = pctx::RunResult::ControlLost;
    try {
        result = session.run(std::chrono::milliseconds(5));
    } catch (...) {
        done = true;
        reader.join();
        throw;
    }
    done = true;
    reader.join();
    CHECK(result == pctx::RunResult::Finished);
    CHECK(broken.empty());
    CHECK(copies > 0);
    CHECK(with_threads > 0);
}

TEST_CASE("snapshot: an exec renames the process and its totals keep the old image's",
          "[bpf][snapshot]")
{
    const std::string threads = target("threads");
    auto session = pctx::Session::spawn(
        {"/bin/sh", "-c",
         "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec " + threads + " 3"},
        counting());
    const pid_t pid = session.pid();
    std::uint64_t old_image = 0, new_image = 0;
    unsigned execs = 0;
    auto& h = session.handlers();
    h.exec = [&](const pctx::ExecEvent& ev) {
        const pctx::Snapshot s = session.snapshot(ev.pid);
        REQUIRE(s.processes.size() == 1);
        CHECK(s.processes.front().command == ev.command_line());
        if (++execs == 2) { // the first is the spawned command's own
            old_image = cpu_clock(session, ev.pid, ev.tid);
            CHECK(s.processes.front().totals.front() == old_image);
        }
    };
    h.exit = [&](const pctx::ExitEvent& ev) {
        new_image = cpu_clock(session, ev.pid, ev.tid);
    };
    REQUIRE(session.run() == pctx::RunResult::Finished);
    REQUIRE(execs == 2);
    CHECK(old_image > 0);

    const pctx::Snapshot s = session.snapshot(pid);
    REQUIRE(s.processes.size() == 1);
    const auto& p = s.processes.front();
    CHECK(p.ended);
    REQUIRE(p.exit);
    CHECK(p.exit->exited());
    CHECK(p.command == threads + " 3");
    CHECK(p.totals.front() == old_image + new_image);
}

TEST_CASE("snapshot model: deltas between ticks, folds at thread end, exec and exit", "[snapshot]")
{
    using pctx::detail::Accounting;
    Accounting model([](pid_t pid) { return "captured " + std::to_string(pid); });
    auto values = [](std::uint64_t a, std::uint64_t b) {
        Accounting::Values v{};
        v[0] = a;
        v[1] = b;
        return v;
    };
    auto one = [&model](pid_t pid) {
        pctx::Snapshot s = model.snapshot(2, pid);
        REQUIRE(s.processes.size() == 1);
        return s.processes.front();
    };

    model.thread_started(pctx::LwpEvent{10, 10, 1});
    model.thread_started(pctx::LwpEvent{10, 11, 2});
    CHECK(one(10).command == "captured 10");
    model.thread_read(pctx::LwpEvent{10, 10, 3}, values(5, 50));
    model.thread_read(pctx::LwpEvent{10, 11, 3}, values(1, 10));
    model.thread_read(pctx::LwpEvent{10, 10, 4}, values(8, 70));
    auto p = one(10);
    REQUIRE(p.threads.size() == 2);
    CHECK(p.threads[0].totals == std::vector<std::uint64_t>{8, 70});
    CHECK(p.threads[0].delta == std::vector<std::uint64_t>{3, 20}); // against the previous tick
    CHECK(p.threads[1].delta == std::vector<std::uint64_t>{1, 10}); // first tick: against zero
    CHECK(p.totals == std::vector<std::uint64_t>{9, 80});

    // A thread's end: its fini_lwp totals join the process's.
    model.thread_ended(pctx::LwpEvent{10, 11, 5}, values(2, 12));
    p = one(10);
    CHECK(p.threads.size() == 1);
    CHECK(p.totals == std::vector<std::uint64_t>{10, 82});
    // An uncounted thread's end: its last reading is what it did.
    model.thread_read(pctx::LwpEvent{10, 10, 6}, values(9, 75));
    model.thread_ended(pctx::LwpEvent{10, 10, 7, true}, {});
    CHECK(one(10).totals == std::vector<std::uint64_t>{11, 87});

    // A fork names the child after its parent, until its exec.
    model.forked(pctx::ForkEvent{10, 10, 20, true, 8});
    model.thread_started(pctx::LwpEvent{20, 20, 8});
    CHECK(one(20).command == "captured 10");
    CHECK(one(20).ppid == 10);
    model.thread_read(pctx::LwpEvent{20, 20, 9}, values(4, 4));
    model.thread_ended(pctx::LwpEvent{20, 20, 10}, values(6, 6)); // fini_all before the exec
    pctx::ExecEvent exec;
    exec.pid = exec.tid = 20;
    exec.argv = {"/bin/true", "x"};
    exec.time_ns = 10;
    model.execed(exec);
    model.thread_started(pctx::LwpEvent{20, 20, 10});
    p = one(20);
    CHECK(p.command == "/bin/true x");
    CHECK(p.threads.front().totals == std::vector<std::uint64_t>{0, 0}); // the image starts over
    CHECK(p.totals == std::vector<std::uint64_t>{6, 6});                 // its lifetime keeps
    model.thread_read(pctx::LwpEvent{20, 20, 11}, values(1, 1));
    model.thread_ended(pctx::LwpEvent{20, 20, 12}, values(3, 3));
    model.exited(pctx::ExitEvent{20, 20, 0, 12});

    // The ended process is in the next full snapshot, then no more.
    pctx::Snapshot all = model.snapshot(2);
    REQUIRE(all.processes.size() == 2);
    CHECK(all.time_ns == 12);
    CHECK_FALSE(all.processes[0].ended);
    CHECK(all.processes[1].pid == 20);
    CHECK(all.processes[1].ended);
    REQUIRE(all.processes[1].exit);
    CHECK(all.processes[1].totals == std::vector<std::uint64_t>{9, 9});
    all = model.snapshot(2);
    REQUIRE(all.processes.size() == 1);
    CHECK(all.processes[0].pid == 10);

    // Let go without an exit: ended, released.
    model.released(10, 13);
    all = model.snapshot(2);
    REQUIRE(all.processes.size() == 1);
    CHECK(all.processes[0].released);
    CHECK_FALSE(all.processes[0].exit);
    CHECK(model.snapshot(2).processes.empty());
}
