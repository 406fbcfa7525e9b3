// pctx-bpf run's messages when it cannot do what was asked: each names the
// real cause and what to do, and nothing else is printed.
#include "procfs/procfs.hpp"
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <string>

using clitest::TempDir;
using testsupport::target;

TEST_CASE("CLI: -p of a thread names its process", "[bpf][cli][messages]")
{
    testsupport::Child threads({target("parked_threads"), "3"});
    REQUIRE(threads.read_line() == "ready");
    const auto tids = pctx::detail::list_threads(threads.pid());
    REQUIRE(tids.size() == 3);
    const pid_t tid = tids.back();
    REQUIRE(tid != threads.pid());

    const auto r = clitest::run({"run", "-p", std::to_string(tid)});
    INFO(r.err);
    CHECK(r.status == 1);
    const std::string pid = std::to_string(threads.pid());
    CHECK(r.err.find("is a thread of process " + pid) != std::string::npos);
    CHECK(r.err.find("-p " + pid) != std::string::npos);
    CHECK(r.err.find("doesn't exist") == std::string::npos);
    CHECK(r.out.empty());
}

TEST_CASE("CLI: a script's missing interpreter is named, with no header printed",
          "[bpf][cli][messages]")
{
    TempDir dir;
    const std::string script = dir.file("script");
    {
        std::ofstream out(script);
        out << "#!/nonexistent/sh -e\necho never\n";
    }
    REQUIRE(::chmod(script.c_str(), 0755) == 0);

    const auto r = clitest::run({"run", "--", script});
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("interpreter '/nonexistent/sh'") != std::string::npos);
    CHECK(r.err.find("cannot find program") == std::string::npos);
    CHECK(r.out.empty()); // no header above an error
}
