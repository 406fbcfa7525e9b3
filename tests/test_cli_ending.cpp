// How a run ends: Ctrl-C and SIGTERM (captured processes left running, started
// trees killed, output whole), a closed output, several -p, and the summary.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <string>
#include <vector>

using testsupport::Child;
using testsupport::target;

namespace {

// Reads tracer output until `count` lines contain `needle`; returns what was read.
std::string read_until(clitest::Tracer& tracer, const std::string& needle, int count)
{
    std::string out;
    int seen = 0;
    while (seen < count) {
        const auto line = tracer.read_line();
        if (!line)
            break;
        out += *line + "\n";
        seen += line->find(needle) != std::string::npos;
    }
    return out;
}

void check_well_formed(const std::string& format, const std::string& out)
{
    INFO(format << ":\n" << out);
    REQUIRE_FALSE(out.empty());
    CHECK(out.back() == '\n'); // the last line is whole
    if (format == "chrome") {
        const auto doc = nlohmann::json::parse(out);
        CHECK(doc.at("traceEvents").is_array());
    } else if (format == "json") {
        CHECK_NOTHROW(clitest::json_lines(out));
    } else if (format == "csv") {
        const auto records = clitest::read_csv(out);
        for (const auto& r : records)
            CHECK(r.size() == records.front().size());
    }
}

} // namespace

TEST_CASE("CLI: SIGINT during a capture leaves the process running, the output whole", "[bpf][cli]")
{
    for (const std::string format : {"text", "json", "csv", "chrome"}) {
        INFO(format);
        Child proc({target("parked_threads"), "2"});
        REQUIRE(proc.read_line() == "ready");
        clitest::Tracer tracer(
            {"run", "-v", "-T", "0.05", "--format", format, "-p", std::to_string(proc.pid())});
        // The capture is live once both threads are announced.
        std::string out = read_until(tracer, "init_lwp", 2);
        tracer.signal(SIGINT);
        const auto r = tracer.finish();
        out = r.out;
        INFO(r.err);
        CHECK(r.status == 0);
        check_well_formed(format, out);
        CHECK(out.find("init_lwp") != std::string::npos);
        // Still running, and still itself: it serves a request.
        CHECK(testsupport::alive(proc.pid()));
        proc.send("t");
        CHECK(proc.read_line() == "t");
    }
}

TEST_CASE("CLI: SIGTERM kills a started tree, status 128+15, output whole", "[bpf][cli]")
{
    for (const std::string format : {"json", "chrome"}) {
        INFO(format);
        // parked_threads waits for EOF on the stdin it shares with the tracer:
        // it runs until killed.
        clitest::Tracer tracer(
            {"run", "-f", "-v", "--format", format, "--", target("parked_threads"), "3"});
        const std::string head = read_until(tracer, "init_lwp", 3);
        tracer.signal(SIGTERM);
        const auto r = tracer.finish();
        INFO(r.err);
        CHECK(r.status == 128 + SIGTERM);
        // The command's own "ready" shares the stream: keep the tracer's lines.
        std::string out;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);)
            if (line != "ready")
                out += line + "\n";
        check_well_formed(format, out);
        pid_t command = 0;
        if (format == "json") {
            for (const auto& j : clitest::json_lines(out))
                if (j["event"] == "exec")
                    command = j["pid"];
        } else {
            const auto doc = nlohmann::json::parse(out);
            for (const auto& e : doc.at("traceEvents"))
                if (e["name"] == "exec")
                    command = e["pid"];
        }
        REQUIRE(command > 0);
        CHECK(testsupport::wait_all_gone({command}, std::chrono::seconds(5)));
    }
}

TEST_CASE("CLI: a closed output ends the run quietly, and the command with it", "[bpf][cli]")
{
    clitest::Tracer tracer(
        {"run", "-T", "0.01", "--format", "json", "--", target("parked_threads"), "2"});
    pid_t command = 0;
    while (const auto line = tracer.read_line()) {
        if (line->empty() || (*line)[0] != '{')
            continue;
        const auto j = nlohmann::json::parse(*line);
        if (j["event"] == "exec") {
            command = j["pid"];
            break;
        }
    }
    REQUIRE(command > 0);
    tracer.close_stdout(); // the next tick's row meets EPIPE
    const auto r = tracer.finish();
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("Broken pipe") == std::string::npos);
    CHECK(r.err.find("pctx-bpf: summary") != std::string::npos);
    CHECK(testsupport::wait_all_gone({command}, std::chrono::seconds(5)));
}

TEST_CASE("CLI: -p twice captures both, with a pid column", "[bpf][cli]")
{
    Child a({target("parked_threads"), "1"});
    Child b({target("parked_threads"), "2"});
    REQUIRE(a.read_line() == "ready");
    REQUIRE(b.read_line() == "ready");
    clitest::Tracer tracer(
        {"run", "-v", "-T", "0", "-p", std::to_string(a.pid()), "-p", std::to_string(b.pid())});
    read_until(tracer, "init_lwp", 3);
    a.close_stdin();
    b.close_stdin();
    const auto r = tracer.finish();
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    const auto text = clitest::read_text(r.out);
    CHECK(text.columns == std::vector<std::string>{"time", "pid", "lwp", "event"});
    int exits = 0;
    for (const auto& row : text.rows)
        if (row.event == "exit") {
            ++exits;
            CHECK((row.pid == a.pid() || row.pid == b.pid()));
            CHECK(row.note == "status 0");
        }
    CHECK(exits == 2);
}

TEST_CASE("CLI summary: processes, lost events and the tracer's CPU time on stderr", "[bpf][cli]")
{
    const auto r = clitest::run(
        {"run", "-f", "-o", "/dev/null", "--", "/bin/sh", "-c", "/bin/true; kill -9 $$"});
    INFO(r.err);
    CHECK(r.status == 128 + 9);
    CHECK(r.err.find("pctx-bpf: summary") != std::string::npos);
    CHECK(r.err.find("signal 9") != std::string::npos);
    CHECK(r.err.find("status 0") != std::string::npos);
    CHECK(r.err.find("/bin/sh -c /bin/true; kill -9 $$") != std::string::npos);
    CHECK(r.err.find("pctx-bpf: 0 events lost") != std::string::npos);
    CHECK(r.err.find("pctx-bpf: tracer CPU time ") != std::string::npos);
    // -q: nothing.
    const auto quiet = clitest::run({"run", "-q", "-o", "/dev/null", "--", "/bin/true"});
    CHECK(quiet.status == 0);
    CHECK(quiet.err.empty());
}

TEST_CASE("CLI summary: counter totals per process, over every image", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-f", "-T", "0", "-c", "task-clock", "--format", "json",
                                 "--", "/bin/sh", "-c", target("busy_threads") + " 2 100"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    // Each process's total is the sum of its threads' fini_lwp totals.
    std::map<int, std::uint64_t> sums;
    for (const auto& j : clitest::json_lines(r.out))
        if (j["event"] == "fini_lwp")
            sums[j["pid"].get<int>()] += j["counters"]["task-clock"].get<std::uint64_t>();
    REQUIRE_FALSE(sums.empty());
    for (const auto& [pid, sum] : sums) {
        INFO("pid " << pid);
        CHECK(sum > 0);
        std::istringstream lines(r.err);
        bool found = false;
        for (std::string line; std::getline(lines, line);) {
            std::istringstream words(line);
            std::string p, life, end1, end2, total;
            words >> p >> life >> end1 >> end2 >> total;
            if (p == std::to_string(pid)) {
                found = true;
                CHECK(total == std::to_string(sum));
            }
        }
        CHECK(found);
    }
    CHECK(r.err.find("task-clock") != std::string::npos);
}
