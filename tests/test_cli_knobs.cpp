// pctx-bpf run's resource knobs, --ringbuf-size and --max-tasks: checked by
// CLI11 before anything loads, and handed to the library.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using testsupport::target;

TEST_CASE("CLI knobs: bad values are usage errors with status 2", "[bpf][cli][knobs]")
{
    const auto progs = testsupport::settled_bpf_programs();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--ringbuf-size", "0"}, "BYTES must be a size from 1 byte to 2g"},
        {{"--ringbuf-size", "abc"}, "not 'abc'"},
        {{"--ringbuf-size", "-4k"}, "--ringbuf-size"},
        {{"--ringbuf-size", "3g"}, "not '3g'"},
        {{"--ringbuf-size", "1x"}, "not '1x'"},
        {{"--max-tasks", "0"}, "N must be a positive integer up to 4194304, not '0'"},
        {{"--max-tasks", "5000000"}, "not '5000000'"},
        {{"--max-tasks", "many"}, "--max-tasks"},
        {{"-N", "1.5"}, "COUNT must be a positive integer"},
        {{"--format", "JSON"}, "FORMAT must be text, json, csv or chrome, not 'JSON'"},
    };
    for (const auto& [opts, message] : cases) {
        std::vector<std::string> args{"run"};
        args.insert(args.end(), opts.begin(), opts.end());
        args.insert(args.end(), {"--", "/bin/true"});
        INFO(opts.front() << " " << opts.back());
        const auto r = clitest::run(args);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(message) != std::string::npos);
        CHECK(r.err.find("--help") != std::string::npos);
        CHECK(r.out.empty());
    }
    CHECK(testsupport::bpf_programs_return_to(progs));
}

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
    CHECK(r.err.find("threads are not counted") != std::string::npos);

    const auto roomy = clitest::run({"run", "-q", "-T", "0", "-c", "task-clock", "--max-tasks",
                                     "64", "--", target("parked_threads"), "8"});
    INFO(roomy.err);
    CHECK(roomy.status == 0);
    CHECK(roomy.err.find("not counted") == std::string::npos);
}
