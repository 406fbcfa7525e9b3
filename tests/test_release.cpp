// Ending a session: a spawned tree dies whole, also when the tracer itself
// is killed; a dead tracer leaves no BPF program behind.
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

using testsupport::Child;
using testsupport::target;

namespace {

// The tree target prints 7 pids: itself, 2 children, 4 grandchildren.
constexpr int kTreeSize = 7;

std::vector<pid_t> read_pids(const std::function<std::string()>& next_line)
{
    std::vector<pid_t> pids;
    for (int i = 0; i < kTreeSize; ++i) {
        const std::string line = next_line();
        REQUIRE_FALSE(line.empty());
        pids.push_back(std::stoi(line));
    }
    return pids;
}

} // namespace

TEST_CASE("release kills a spawned tree with grandchildren, followed or not", "[bpf][release]")
{
    const bool follow = GENERATE(false, true);
    INFO("follow_forks " << follow);
    std::set<std::uint32_t> progs;

    char dir[] = "/tmp/pctx-tree-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string fifo = std::string(dir) + "/pids";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);

    pctx::Options options;
    options.follow_forks = follow;
    {
        auto session = pctx::Session::spawn(
            {"/bin/sh", "-c", "exec " + target("tree") + " > " + fifo}, options);
        pctx::RunResult result{};
        std::thread runner([&] { result = session.run(); });
        std::ifstream pids_in(fifo); // opens once the tree runs
        const auto pids = read_pids([&] {
            std::string line;
            std::getline(pids_in, line);
            return line;
        });
        progs = testsupport::bpf_programs_held_by(::getpid());
        CHECK_FALSE(progs.empty());
        session.terminate();
        runner.join();
        CHECK(result == pctx::RunResult::Stopped);
        for (pid_t pid : pids)
            CHECK(testsupport::alive(pid));
        session.release();
        for (pid_t pid : pids) {
            INFO("pid " << pid);
            CHECK_FALSE(testsupport::alive(pid));
        }
    }
    ::unlink(fifo.c_str());
    ::rmdir(dir);
    CHECK(testsupport::children_of_self().empty());
    CHECK(testsupport::bpf_programs_held_by(::getpid()).empty());
    CHECK(testsupport::bpf_programs_gone(progs));
}

TEST_CASE("SIGKILL to the tracer kills the traced tree within a second", "[bpf][release]")
{
    Child tracer({testsupport::cli(), "run", "-o", "/dev/null", "--", target("tree")});
    const auto pids = read_pids([&] { return tracer.read_line(); });
    const auto progs = testsupport::bpf_programs_held_by(tracer.pid());
    CHECK_FALSE(progs.empty());
    for (pid_t pid : pids)
        CHECK(testsupport::alive(pid));

    ::kill(tracer.pid(), SIGKILL);
    CHECK(testsupport::wait_all_gone(pids, std::chrono::seconds(1)));
    const int status = tracer.wait();
    CHECK(WIFSIGNALED(status));
    CHECK(testsupport::bpf_programs_gone(progs));
}

TEST_CASE("releasing a session before it runs kills the waiting command", "[bpf][release]")
{
    std::set<std::uint32_t> progs;
    pid_t pid = 0;
    {
        auto session = pctx::Session::spawn({"/bin/sleep", "100"});
        pid = session.pid();
        progs = testsupport::bpf_programs_held_by(::getpid());
        CHECK_FALSE(progs.empty());
        CHECK(testsupport::alive(pid));
    }
    CHECK_FALSE(testsupport::alive(pid));
    CHECK(testsupport::children_of_self().empty());
    CHECK(testsupport::bpf_programs_gone(progs));
}
