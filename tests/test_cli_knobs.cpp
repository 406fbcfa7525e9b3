// pctx-bpf run's resource knobs, --ringbuf-size and --max-tasks, handed to
// the library (their bad values are in test_cli.cpp's usage errors).
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using testsupport::target;

TEST_CASE("CLI knobs: --ringbuf-size is rounded up to what the kernel takes", "[bpf][cli][knobs]")
{
    for (const std::string size : {"1", "5000", "100k", "3m"}) {
        INFO("--ringbuf-size " << size);
        const auto r =
            clitest::run({"run", "-f", "--ringbuf-size", size, "--", target("spawn_many"), "20"});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(clitest::count_of(r.out, " exec") >= 21);
    }
}

TEST_CASE("CLI knobs: --max-tasks bounds the counted threads", "[bpf][cli][knobs]")
{
    // parked_threads keeps 8 threads alive until its stdin (closed) ends.
    const auto r = clitest::run({"run", "-q", "-T", "0", "-c", "task-clock", "--max-tasks", "2",
                                 "--", target("parked_threads"), "8"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("threads not counted") != std::string::npos);

    const auto roomy = clitest::run({"run", "-q", "-T", "0", "-c", "task-clock", "--max-tasks",
                                     "64", "--", target("parked_threads"), "8"});
    INFO(roomy.err);
    CHECK(roomy.status == 0);
    CHECK(roomy.err.find("not counted") == std::string::npos);
}
