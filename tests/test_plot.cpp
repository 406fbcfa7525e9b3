// pctx-bpf plot and run --plot: a recorded make -j2 drawn as SVG (read back
// by Python's XML parser) and PNG (its header's size), the lanes the model
// builds from it, and the errors a bad recording or file name gives.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"
#include "views/timeline_cairo.hpp"
#include "views/timeline_json.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdint>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

using clitest::TempDir;

namespace {

// Three recipes that spin in a shell, two at a time, and one that fails
// (make -k goes on): make, its shells, and what they run.
const char* const kMakefile = "all: spin1 spin2 spin3 fail\n"
                              "spin1 spin2 spin3:\n"
                              "\t@i=0; while [ $$i -lt 30000 ]; do i=$$((i+1)); done\n"
                              "fail:\n"
                              "\t@sh -c 'exit 3'\n";

struct Size {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};

// A PNG starts with its 8-byte signature, then the IHDR chunk: length, type,
// width and height big-endian.
Size png_size(const std::string& path)
{
    const std::string png = clitest::slurp(path);
    REQUIRE(png.size() > 24);
    REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    REQUIRE(png.compare(12, 4, "IHDR") == 0);
    const auto be32 = [&png](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i)
            v = v << 8 | static_cast<unsigned char>(png[at + i]);
        return v;
    };
    return {be32(16), be32(20)};
}

// Python's XML parser reads the SVG and prints its viewBox and the number of
// lane outlines (the one stroke colour only they use, see timeline_cairo.cpp).
std::vector<std::string> svg_facts(const std::string& path)
{
    const char* const script = "import sys, xml.etree.ElementTree as ET\n"
                               "root = ET.parse(sys.argv[1]).getroot()\n"
                               "assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag\n"
                               "lanes = [p for p in root.iter('{http://www.w3.org/2000/svg}path')\n"
                               "         if 'stroke:rgb(25%,25%,25%)' in p.get('style', '')]\n"
                               "print(root.get('viewBox'))\n"
                               "print(len(lanes))\n";
    testsupport::Child python({"/usr/bin/python3", "-c", script, path});
    python.close_stdin();
    std::vector<std::string> lines;
    for (std::string line = python.read_line(); !line.empty(); line = python.read_line())
        lines.push_back(line);
    const int status = python.wait();
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(lines.size() == 2);
    return lines;
}

std::size_t processes_in(const std::vector<nlohmann::json>& rows)
{
    std::set<int> pids;
    for (const auto& r : rows) {
        pids.insert(r["pid"].get<int>());
        if (r.contains("child_pid"))
            pids.insert(r["child_pid"].get<int>());
    }
    return pids.size();
}

std::string layout_view_box(std::size_t lanes)
{
    const pctx::detail::TimelineLayout l = pctx::detail::timeline_layout(lanes);
    return "0 0 " + std::to_string(l.width) + " " + std::to_string(l.height);
}

void write_file(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

} // namespace

TEST_CASE("plot: a recorded make -j2 as SVG and PNG, one lane per process", "[plot][bpf][hostonly]")
{
    TempDir dir;
    write_file(dir.file("Makefile"), kMakefile);
    const std::string run = dir.file("run.jsonl");
    const auto recorded =
        clitest::run({"run", "-f", "-c", "task-clock", "-T", "0.05", "--format", "json", "-q", "-o",
                      run, "--", "make", "-k", "-j2", "-s", "-C", dir.file("")});
    INFO(recorded.err);
    REQUIRE(recorded.status == 2); // make's own status: a recipe failed
    const std::vector<nlohmann::json> rows = clitest::json_lines(clitest::slurp(run));
    const std::size_t processes = processes_in(rows);
    REQUIRE(processes >= 5); // make and four recipe shells (a shell may exec sh -c)

    SECTION("the model: make on top, its shells under it, their ends and CPU")
    {
        const pctx::detail::Timeline t = pctx::detail::read_timeline(run);
        REQUIRE(t.lanes.size() == processes);
        CHECK(t.lanes[0].depth == 0);
        CHECK(t.lanes[0].images.front().name.rfind("make", 0) == 0);
        CHECK(t.lanes[0].status == 2);
        CHECK(t.has_cpu);
        std::size_t spinners = 0;
        std::size_t failed = 0;
        for (std::size_t i = 1; i < t.lanes.size(); ++i) {
            const auto& lane = t.lanes[i];
            REQUIRE(lane.parent);
            CHECK(*lane.parent < i); // under its parent
            CHECK(lane.depth == t.lanes[*lane.parent].depth + 1);
            CHECK(lane.start_ns >= t.lanes[*lane.parent].start_ns);
            CHECK(lane.end_ns <= t.end_ns);
            REQUIRE(lane.status);
            failed += *lane.status == 3 ? 1 : 0;
            if (lane.images.back().name.find("while") == std::string::npos)
                continue;
            ++spinners;
            // The CPU spans add up to the process's own total at exit.
            std::uint64_t total = 0;
            for (const auto& r : rows)
                if (r["event"] == "exit" && r["pid"].get<pid_t>() == lane.pid)
                    total = r["counters"]["task-clock"].get<std::uint64_t>();
            const std::uint64_t spans = std::accumulate(
                lane.cpu.begin(), lane.cpu.end(), std::uint64_t{0},
                [](std::uint64_t sum, const pctx::detail::CpuSpan& s) { return sum + s.cpu_ns; });
            CHECK(total > 0);
            CHECK(spans >= total);
        }
        CHECK(spinners == 3);
        CHECK(failed >= 1); // sh -c 'exit 3', and its recipe shell if that did not exec it
    }

    SECTION("SVG: parses, one lane outline per process, the layout's size")
    {
        const std::string svg = dir.file("run.svg");
        const auto plotted = clitest::run({"plot", run, "-o", svg});
        INFO(plotted.err);
        REQUIRE(plotted.status == 0);
        const std::vector<std::string> facts = svg_facts(svg);
        CHECK(facts[0] == layout_view_box(processes));
        CHECK(facts[1] == std::to_string(processes));
    }

    SECTION("PNG: of the layout's size")
    {
        const std::string png = dir.file("run.PNG");
        const auto plotted = clitest::run({"plot", run, "-o", png});
        INFO(plotted.err);
        REQUIRE(plotted.status == 0);
        const Size size = png_size(png);
        const auto layout = pctx::detail::timeline_layout(processes);
        CHECK(size.width == static_cast<std::uint32_t>(layout.width));
        CHECK(size.height == static_cast<std::uint32_t>(layout.height));
    }
}

TEST_CASE("plot: run --plot draws what plot draws from the same run's JSON", "[plot][bpf]")
{
    TempDir dir;
    const std::string run = dir.file("run.jsonl");
    const std::string live = dir.file("live.png");
    const auto traced = clitest::run(
        {"run", "-f", "-c", "task-clock", "-T", "0.02", "--format", "json", "-q", "-o", run,
         "--plot", live, "--", "/bin/sh", "-c",
         "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; (exit 5) & /bin/sh -c 'exit 0'; wait"});
    INFO(traced.err);
    REQUIRE(traced.status == 0);
    const std::size_t processes = processes_in(clitest::json_lines(clitest::slurp(run)));
    CHECK(processes >= 3);

    const Size size = png_size(live);
    const auto layout = pctx::detail::timeline_layout(processes);
    CHECK(size.width == static_cast<std::uint32_t>(layout.width));
    CHECK(size.height == static_cast<std::uint32_t>(layout.height));

    const std::string later = dir.file("later.png");
    const auto plotted = clitest::run({"plot", run, "-o", later});
    INFO(plotted.err);
    REQUIRE(plotted.status == 0);
    CHECK(clitest::slurp(later) == clitest::slurp(live));
}

TEST_CASE("plot: a bad recording exits 1 saying what is wrong", "[plot]")
{
    TempDir dir;
    const std::string out = dir.file("out.svg");
    struct Case {
        const char* name;
        const char* text; // nullptr: no such file
        const char* message;
    };
    const Case cases[] = {
        {"missing.jsonl", nullptr, "cannot read"},
        {"text.jsonl", "     time     pid     lwp      event\n", "line 1 is not a pctx-bpf event"},
        {"other.jsonl", "{\"a\": 1}\n", "line 1 is not a pctx-bpf event"},
        {"empty.jsonl", "\n\n", "holds no events"},
        {"half.jsonl",
         "{\"event\":\"exec\",\"pid\":5,\"tid\":5,\"time_ns\":1,\"args\":[\"x\"]}\n{\"event\":",
         "line 2 is not a pctx-bpf event"},
    };
    for (const Case& c : cases) {
        const std::string path = dir.file(c.name);
        if (c.text)
            write_file(path, c.text);
        const auto r = clitest::run({"plot", path, "-o", out});
        INFO(c.name << ": " << r.err);
        CHECK(r.status == 1);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.err.find(path) != std::string::npos);
    }
}

TEST_CASE("plot: a picture name that is neither .svg nor .png is a usage error", "[plot]")
{
    TempDir dir;
    const std::string run = dir.file("run.jsonl");
    write_file(run, "{\"event\":\"exec\",\"pid\":5,\"tid\":5,\"time_ns\":1,\"args\":[\"x\"]}\n");

    const auto jpg = clitest::run({"plot", run, "-o", dir.file("out.jpg")});
    CHECK(jpg.status == 2);
    CHECK(jpg.err.find("FILE.svg or FILE.png") != std::string::npos);
    const auto none = clitest::run({"plot", run});
    CHECK(none.status == 2);
    CHECK(none.err.find("--output") != std::string::npos);
    const auto two = clitest::run({"plot", run, run, "-o", dir.file("out.svg")});
    CHECK(two.status == 2);
    const auto live = clitest::run({"run", "--plot", dir.file("out.pdf"), "--", "true"});
    CHECK(live.status == 2);
    CHECK(live.err.find("--plot") != std::string::npos);

    // A good one, for contrast: the same recording draws.
    const auto good = clitest::run({"plot", run, "-o", dir.file("out.svg")});
    INFO(good.err);
    CHECK(good.status == 0);
}

TEST_CASE("plot: lanes of a written recording: nesting, images, pid reuse, the living", "[plot]")
{
    // 10 runs sh, which forks 11 (a subshell that execs cat, then is
    // killed) and 12 (which forks 13); 11's pid comes back as a child of 12;
    // 12 and 13 are still alive at the end. Thread 10's CPU: 4 ms, then 2 ms.
    TempDir dir;
    const std::string run = dir.file("run.jsonl");
    write_file(run, R"({"event":"exec","pid":10,"tid":10,"time_ns":1000,"args":["/bin/sh","-c","x"]}
{"event":"init_lwp","pid":10,"tid":10,"time_ns":1000,"counters":{"task-clock":0}}
{"event":"fork","pid":10,"tid":10,"time_ns":2000,"child_pid":11}
{"event":"fork","pid":10,"tid":10,"time_ns":3000,"child_pid":12}
{"event":"exec","pid":11,"tid":11,"time_ns":4000,"args":["/usr/bin/cat"]}
{"event":"tick","pid":10,"tid":10,"time_ns":5000,"counters":{"task-clock":4000},"deltas":{"task-clock":4000}}
{"event":"fork","pid":12,"tid":12,"time_ns":5500,"child_pid":13}
{"event":"exit","pid":11,"tid":11,"time_ns":6000,"status":137,"signal":9}
{"event":"lost","pid":0,"tid":0,"time_ns":6500,"count":3}
{"event":"fork","pid":12,"tid":12,"time_ns":7000,"child_pid":11}
{"event":"fini_lwp","pid":10,"tid":10,"time_ns":8000,"counters":{"task-clock":6000}}
{"event":"exit","pid":10,"tid":10,"time_ns":8000,"status":0,"signal":0,"counters":{"task-clock":6000}}
{"event":"tick","pid":13,"tid":13,"time_ns":9000}
)");
    const pctx::detail::Timeline t = pctx::detail::read_timeline(run);
    CHECK(t.start_ns == 1000);
    CHECK(t.end_ns == 9000);
    CHECK(t.has_cpu);
    REQUIRE(t.lanes.size() == 5);
    // Depth first: 10, 11 (first child), 12, 12's children 13 and 11 again.
    const pid_t order[] = {10, 11, 12, 13, 11};
    const unsigned depth[] = {0, 1, 1, 2, 2};
    for (std::size_t i = 0; i < 5; ++i) {
        INFO("lane " << i);
        CHECK(t.lanes[i].pid == order[i]);
        CHECK(t.lanes[i].depth == depth[i]);
    }
    CHECK(t.lanes[1].parent == 0u);
    CHECK(t.lanes[3].parent == 2u);
    CHECK(t.lanes[4].parent == 2u);

    // The child's first image is its parent's; an exec starts the next.
    REQUIRE(t.lanes[1].images.size() == 2);
    CHECK(t.lanes[1].images[0].name == "/bin/sh -c x");
    CHECK(t.lanes[1].images[1].start_ns == 4000);
    CHECK(t.lanes[1].images[1].name == "/usr/bin/cat");
    CHECK(t.lanes[1].status == 137);
    CHECK(t.lanes[1].signal == 9);
    CHECK(t.lanes[1].end_ns == 6000);

    // Still alive at the end: no status, the bar runs to the recording's end.
    for (std::size_t i : {2, 3, 4}) {
        CHECK_FALSE(t.lanes[i].status);
        CHECK(t.lanes[i].end_ns == 9000);
    }
    CHECK(t.lanes[4].start_ns == 7000);

    // 4 ms from its start to the tick, 2 ms from the tick to its end.
    REQUIRE(t.lanes[0].cpu.size() == 2);
    CHECK(t.lanes[0].cpu[0].start_ns == 1000);
    CHECK(t.lanes[0].cpu[0].end_ns == 5000);
    CHECK(t.lanes[0].cpu[0].cpu_ns == 4000);
    CHECK(t.lanes[0].cpu[1].start_ns == 5000);
    CHECK(t.lanes[0].cpu[1].cpu_ns == 2000);

    // And it draws, as both formats.
    CHECK(clitest::run({"plot", run, "-o", dir.file("t.svg")}).status == 0);
    REQUIRE(clitest::run({"plot", run, "-o", dir.file("t.png")}).status == 0);
    const Size size = png_size(dir.file("t.png"));
    CHECK(size.width == static_cast<std::uint32_t>(pctx::detail::timeline_layout(5).width));
    CHECK(size.height == static_cast<std::uint32_t>(pctx::detail::timeline_layout(5).height));
}
