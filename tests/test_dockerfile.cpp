// The Dockerfile's runtime stage holds the binary and exactly the shared
// libraries it links: checked against ldd of the binary built here (the same
// Debian bookworm). No Docker engine runs here, so the image itself is not
// built by the tests.
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

std::set<std::string> ldd_paths(const std::string& binary)
{
    std::FILE* p = ::popen(("ldd " + binary).c_str(), "r");
    REQUIRE(p != nullptr);
    std::set<std::string> paths;
    char line[512];
    while (std::fgets(line, sizeof(line), p)) {
        const std::string s(line);
        const auto slash = s.find('/');
        if (slash != std::string::npos)
            paths.insert(s.substr(slash, s.find_first_of(" \n", slash) - slash));
    }
    REQUIRE(::pclose(p) == 0);
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
