#include "support/shell.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>

namespace testsupport {

std::pair<int, std::string> shell(const std::string& command)
{
    std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;)
        out.append(buf, n);
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

} // namespace testsupport
