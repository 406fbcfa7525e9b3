// pctx-bpf run as a person (or a script) uses it: exit statuses, JSON lines,
// usage errors, capture.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <string>

using testsupport::Child;
using testsupport::cli;
using testsupport::target;

using clitest::json_lines;

TEST_CASE("CLI: the command's exit status is pctx-bpf's", "[bpf][cli]")
{
    CHECK(clitest::run({"run", "-o", "/dev/null", "--", "/bin/sh", "-c", "exit 0"}).status == 0);
    CHECK(clitest::run({"run", "-o", "/dev/null", "--", "/bin/sh", "-c", "exit 3"}).status == 3);
    CHECK(clitest::run({"run", "-o", "/dev/null", "--", "/bin/sh", "-c", "kill -9 $$"}).status ==
          128 + 9);
}

TEST_CASE("CLI: JSON lines carry the documented fields", "[bpf][cli]")
{
    const auto r = clitest::run({"run", "-f", "--format", "json", "--", target("exec_from_thread"),
                                 "thread", "/bin/sh", "-c", "/bin/true; exit 4"});
    CHECK(r.status == 4);
    const auto rows = json_lines(r.out);
    INFO(r.out);
    std::map<std::string, int> kinds;
    for (const auto& j : rows) {
        REQUIRE(j.contains("event"));
        REQUIRE(j["pid"].is_number_integer());
        REQUIRE(j["tid"].is_number_integer());
        REQUIRE(j["time_ns"].is_number_unsigned());
        const std::string ev = j["event"];
        ++kinds[ev];
        if (ev == "exec")
            CHECK(j["args"].is_array());
        if (ev == "fork")
            CHECK(j["child_pid"].is_number_integer());
        if (ev == "exit") {
            CHECK(j["status"].is_number_integer());
            CHECK(j["signal"].is_number_integer());
        }
    }
    CHECK(kinds["exec"] == 3); // the command, its exec from a thread, /bin/true
    CHECK(kinds["fork"] == 1);
    CHECK(kinds["exit"] == 2);
    CHECK(kinds["lwp_create"] == 3);
    CHECK(kinds["init_lwp"] == kinds["fini_lwp"]);
    // Times never go backwards.
    for (std::size_t i = 1; i < rows.size(); ++i)
        CHECK(rows[i]["time_ns"].get<std::uint64_t>() >=
              rows[i - 1]["time_ns"].get<std::uint64_t>());
}

TEST_CASE("CLI: -p captures a running process until it exits", "[bpf][cli]")
{
    Child proc({target("parked_threads"), "2"});
    REQUIRE(proc.read_line() == "ready");
    Child tracer({cli(), "run", "--format", "json", "-p", std::to_string(proc.pid())});
    // Two init_lwp lines mean the capture is live; then let the process end.
    int inits = 0;
    std::string out;
    while (inits < 2) {
        const std::string line = tracer.read_line();
        REQUIRE_FALSE(line.empty());
        out += line + "\n";
        inits += line.find("\"init_lwp\"") != std::string::npos;
    }
    proc.close_stdin();
    for (std::string line; !(line = tracer.read_line()).empty();)
        out += line + "\n";
    const int st = tracer.wait();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    const auto rows = json_lines(out);
    INFO(out);
    REQUIRE_FALSE(rows.empty());
    CHECK(rows.back()["event"] == "exit");
    CHECK(rows.back()["pid"] == proc.pid());
}

TEST_CASE("CLI: bad input is a usage error with status 2", "[bpf][cli]")
{
    // Each with what its message must name.
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"run", "--no-such-option", "--", "/bin/true"}, "unknown option '--no-such-option'"},
        {{"run", "-f", "-x", "/bin/true"}, "unknown option '-x'"},
        {{"run", "-T", "-1", "--", "/bin/true"}, "SECONDS must be"},
        {{"run", "-T", "abc", "--", "/bin/true"}, "not 'abc'"},
        {{"run", "-T", "0.0001", "--", "/bin/true"}, "0.001"},
        {{"run", "-N", "0", "--", "/bin/true"}, "COUNT must be a positive integer"},
        {{"run", "-N", "x", "--", "/bin/true"}, "COUNT"},
        {{"run", "-T", "0", "-N", "3", "--", "/bin/true"}, "-T 0"},
        {{"run", "-c", "nosuch", "--", "/bin/true"}, "unknown event 'nosuch'"},
        {{"run", "-c", "task-clock:x", "--", "/bin/true"}, "modifier"},
        {{"run", "-c", "task-clock,,page-faults", "--", "/bin/true"}, "empty event name"},
        {{"run", "-p", "0"}, "PID must be a positive integer, not '0'"},
        {{"run", "-p", "abc"}, "not 'abc'"},
        {{"run", "-p", "-5"}, "-p"},
        {{"run"}, "give a command to run"},
        {{"run", "-f", "--"}, "give a command to run"},
        {{"run", "-p", "1", "--", "/bin/true"}, "not both"},
        {{"run", "--format", "yaml", "--", "/bin/true"}, "text, json, csv or chrome"},
        {{"run", "--ringbuf-size", "0", "--", "/bin/true"},
         "BYTES must be a size from 1 byte to 2g"},
        {{"run", "--ringbuf-size", "abc", "--", "/bin/true"}, "not 'abc'"},
        {{"run", "--ringbuf-size", "-4k", "--", "/bin/true"}, "--ringbuf-size"},
        {{"run", "--ringbuf-size", "3g", "--", "/bin/true"}, "not '3g'"},
        {{"run", "--ringbuf-size", "1x", "--", "/bin/true"}, "not '1x'"},
        {{"run", "--max-tasks", "0", "--", "/bin/true"},
         "N must be a positive integer up to 4194304"},
        {{"run", "--max-tasks", "5000000", "--", "/bin/true"}, "not '5000000'"},
        {{"run", "--max-tasks", "many", "--", "/bin/true"}, "--max-tasks"},
        {{"run", "-N", "1.5", "--", "/bin/true"}, "COUNT must be a positive integer"},
        {{"run", "--format", "JSON", "--", "/bin/true"}, "not 'JSON'"},
        {{"nosuchcommand"}, "unknown subcommand 'nosuchcommand'"},
    };
    for (const auto& [args, message] : cases) {
        std::string line;
        for (const auto& a : args)
            line += a + " ";
        INFO(line);
        const auto r = clitest::run(args);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(message) != std::string::npos);
        CHECK(r.err.find("--help") != std::string::npos);
        CHECK(r.out.empty());
    }
    CHECK(testsupport::no_orphan_pctx_programs());
}

TEST_CASE("CLI: raw events and modifiers pass the usage check", "[bpf][cli][counters]")
{
    // Whether the PMU takes r00c0 is the machine's business (status 1 with a
    // reason), never a usage error.
    const auto r = clitest::run(
        {"run", "-q", "-T", "0", "-c", "task-clock:u,r00c0", "-o", "/dev/null", "--", "/bin/true"});
    INFO(r.err);
    CHECK(r.status != 2);
    const auto ok = clitest::run({"run", "-q", "-T", "0", "-c", "task-clock:u,page-faults:k", "-o",
                                  "/dev/null", "--", "/bin/true"});
    INFO(ok.err);
    CHECK(ok.status == 0);
}

TEST_CASE("CLI: a program that cannot be found is status 1 with a message", "[bpf][cli]")
{
    const auto r = clitest::run({"run", "--", "no-such-program-pctx"});
    CHECK(r.status == 1);
}

TEST_CASE("CLI: pids are reported as the tracer's pid namespace sees them", "[bpf][cli][pidns]")
{
    // Inside a new pid namespace the shell is a small number, far from ours.
    // util-linux's unshare here, busybox's inside vmtests; /bin/true is not the
    // last command, so no shell execs it in place of forking.
    const std::string unshare =
        ::access("/usr/bin/unshare", X_OK) == 0 ? "/usr/bin/unshare" : "/bin/unshare";
    Child c({unshare, "--pid", "--fork", "--mount-proc", cli(), "run", "-f", "--format", "json",
             "--", "/bin/sh", "-c", "echo shell=$$; /bin/true; exit 0"});
    c.close_stdin();
    std::string out;
    for (std::string line; !(line = c.read_line()).empty();)
        out += line + "\n";
    const int st = c.wait();
    INFO(out);
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    // The shell's own line (not its argv in a row), wherever it came among the rows.
    const auto at = ("\n" + out).find("\nshell=");
    REQUIRE(at != std::string::npos);
    const pid_t shell = std::stoi(out.substr(at + 6));
    CHECK(shell < 10);
    const auto rows = json_lines(out);
    bool saw_exec = false, saw_fork = false;
    for (const auto& j : rows) {
        if (j["event"] == "exec" && j["args"][0] == "/bin/sh") {
            CHECK(j["pid"] == shell);
            saw_exec = true;
        }
        if (j["event"] == "fork") {
            CHECK(j["pid"] == shell);
            CHECK(j["child_pid"].get<int>() < 10);
            saw_fork = true;
        }
    }
    CHECK(saw_exec);
    CHECK(saw_fork);
}
