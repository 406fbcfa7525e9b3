// Tearing down a started tree: every process of it dies, however many were
// orphaned to the supervisor, and the supervisor scans /proc once per
// generation, not once per process reaped.
#include "spawn/spawner.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using testsupport::target;

TEST_CASE("teardown kills every orphan with one /proc scan per generation", "[teardown]")
{
    const int orphans = 500;
    const int depth = GENERATE(1, 3);
    INFO("depth " << depth);

    char dir[] = "/tmp/pctx-orphans-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string fifo = std::string(dir) + "/pids";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);

    std::vector<pid_t> pids;
    unsigned scans = 0;
    {
        pctx::detail::Spawner spawner("/bin/sh",
                                      {"/bin/sh", "-c",
                                       "exec " + target("orphans") + " " + std::to_string(orphans) +
                                           " " + std::to_string(depth) + " > " + fifo});
        REQUIRE(spawner.start() == 0);
        std::ifstream in(fifo); // EOF once every sleeper exists
        for (std::string line; std::getline(in, line);)
            pids.push_back(std::stoi(line));
        REQUIRE(pids.size() == static_cast<size_t>(orphans * depth));
        spawner.kill_tree();
        scans = spawner.teardown_scans();
    }
    ::unlink(fifo.c_str());
    ::rmdir(dir);

    int left = 0;
    for (pid_t pid : pids)
        left += testsupport::alive(pid) ? 1 : 0;
    CHECK(left == 0);
    CHECK(testsupport::children_of_self().empty());
    // One pass per generation (the orphans and the chains below them), one
    // more that finds nothing, and a few where a dying parent's children
    // were not reparented yet: far from one per process.
    CHECK(scans >= 1);
    CHECK(scans <= static_cast<unsigned>(depth) + 4);
}
