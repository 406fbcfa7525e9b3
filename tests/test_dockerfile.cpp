// The Dockerfile's runtime stage holds the binary and exactly the shared
// libraries it links: checked against ldd of the binary built here (the same
// Debian bookworm). No Docker engine runs here, so the image itself is not
// built by the tests.
#include "support/shell.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

std::set<std::string> ldd_paths(const std::string& binary)
{
    const auto [status, out] = testsupport::shell("ldd " + binary);
    REQUIRE(status == 0);
    std::set<std::string> paths;
    std::istringstream lines(out);
    for (std::string s; std::getline(lines, s);) {
        const auto slash = s.find('/');
        if (slash != std::string::npos)
            paths.insert(s.substr(slash, s.find(' ', slash) - slash));
    }
    return paths;
}

// Sources of the runtime stage's COPY --from=build lines, the binary aside.
std::set<std::string> runtime_libraries(const std::string& dockerfile)
{
    std::ifstream in(dockerfile);
    REQUIRE(in);
    std::set<std::string> paths;
    bool runtime = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("FROM ", 0) == 0)
            runtime = line.find(" AS runtime") != std::string::npos;
        std::istringstream words(line);
        std::string copy, from, source;
        words >> copy >> from >> source;
        if (runtime && copy == "COPY" && from == "--from=build" &&
            source.find("pctx-bpf") == std::string::npos)
            paths.insert(source);
    }
    return paths;
}

} // namespace

TEST_CASE("the Dockerfile's runtime stage holds exactly the libraries ldd lists",
          "[hostonly][container]")
{
    const auto linked = ldd_paths(testsupport::cli());
    const auto shipped = runtime_libraries(std::string(PCTX_SOURCE_DIR) + "/Dockerfile");
    for (const auto& lib : linked) {
        INFO("linked, not in the runtime stage: " << lib);
        CHECK(shipped.count(lib) == 1);
    }
    for (const auto& lib : shipped) {
        INFO("in the runtime stage, not linked: " << lib);
        CHECK(linked.count(lib) == 1);
    }
}
