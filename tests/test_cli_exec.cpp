// --stop-at-exec with -f: a child's exec is its last event; the command's own
// first exec never ends anything; without the option, children go on.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

using testsupport::target;

namespace {

struct Seen {
    pid_t shell = 0;
    std::vector<pid_t> children;                      // forked by the shell, in order
    std::map<pid_t, std::vector<std::string>> events; // per process, in order
    int status = -1;
};

// A shell that runs two commands, each a forked child that creates 2 threads.
Seen trace_shell(bool stop_at_exec)
{
    std::vector<std::string> args{"run", "-q", "-f", "-T", "0", "--format", "json"};
    if (stop_at_exec)
        args.emplace_back("--stop-at-exec");
    args.insert(args.end(), {"--", "/bin/sh", "-c",
                             target("threads") + " 2; " + target("threads") + " 2; exit 5"});
    const auto r = clitest::run(args);
    INFO(r.out << r.err);
    Seen s;
    s.status = r.status;
    for (const auto& j : clitest::json_lines(r.out)) {
        const pid_t pid = j["pid"];
        const std::string ev = j["event"];
        if (!s.shell && ev == "exec")
            s.shell = pid;
        if (ev == "fork" && pid == s.shell)
            s.children.push_back(j["child_pid"]);
        s.events[pid].push_back(ev);
    }
    return s;
}

} // namespace

TEST_CASE("CLI --stop-at-exec: each child's exec is its last event", "[bpf][cli]")
{
    const Seen s = trace_shell(true);
    CHECK(s.status == 5); // the command's own exec did not end the run
    REQUIRE(s.shell > 0);
    REQUIRE(s.children.size() == 2);
    for (pid_t child : s.children) {
        INFO("child " << child);
        const auto& evs = s.events.at(child);
        REQUIRE_FALSE(evs.empty());
        CHECK(evs.back() == "exec");
        CHECK(std::count(evs.begin(), evs.end(), "exec") == 1);
        CHECK(std::count(evs.begin(), evs.end(), "lwp_create") == 0);
        CHECK(std::count(evs.begin(), evs.end(), "exit") == 0);
    }
    // The shell itself is followed to its end.
    const auto& sh = s.events.at(s.shell);
    CHECK(sh.front() == "exec");
    CHECK(std::count(sh.begin(), sh.end(), "fork") == 2);
    CHECK(sh.back() == "exit");
}

TEST_CASE("CLI without --stop-at-exec: children are followed across exec", "[bpf][cli]")
{
    const Seen s = trace_shell(false);
    CHECK(s.status == 5);
    REQUIRE(s.children.size() == 2);
    for (pid_t child : s.children) {
        INFO("child " << child);
        const auto& evs = s.events.at(child);
        CHECK(std::count(evs.begin(), evs.end(), "exec") == 1);
        CHECK(std::count(evs.begin(), evs.end(), "lwp_create") == 2);
        CHECK(evs.back() == "exit");
    }
}

TEST_CASE("CLI --stop-at-exec and -e contradict each other", "[bpf][cli]")
{
    const auto r = clitest::run({"run", "-e", "--stop-at-exec", "--", "/bin/true"});
    CHECK(r.status == 2);
    CHECK(r.err.find("-e") != std::string::npos);
    // -e alone is cputrack's, and changes nothing.
    CHECK(clitest::run({"run", "-e", "-q", "--", "/bin/sh", "-c", "exit 7"}).status == 7);
}
