// pctx-bpf run's four output formats on one workload with threads, forks and
// execs: each read by a real parser, and all four telling the same events.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

using clitest::count_by_kind;
using clitest::TempDir;
using testsupport::target;

namespace {

// exec_from_thread (3 threads) execs, from a thread, a shell that runs
// threads (3 threads), forkchain (2 forks) and spawn_many (2 fork+exec),
// each forked. The script holds a comma and quotes, for CSV's quoting.
std::vector<std::string> workload()
{
    const std::string script = target("threads") + " 3; " + target("forkchain") + " 2; " +
                               target("spawn_many") + " 2; echo 'a,\"b\"' >/dev/null; exit 0";
    return {target("exec_from_thread"), "thread", "/bin/sh", "-c", script};
}

const char* const kFormats[] = {"text", "json", "csv", "chrome"};

std::vector<clitest::Event> events_of(const std::string& format, const std::string& out)
{
    if (format == "json")
        return clitest::events_of_json(out);
    if (format == "csv")
        return clitest::events_of_csv(out);
    if (format == "chrome")
        return clitest::events_of_chrome(out);
    return clitest::events_of_text(out);
}

// Runs the workload with -f -v -T 0 in FORMAT, output to a file.
std::string traced(const std::string& format, const TempDir& dir,
                   const std::vector<std::string>& extra = {})
{
    const std::string path = dir.file("out." + format);
    std::vector<std::string> args{"run", "-q", "-f", "-v", "--format", format, "-o", path};
    args.insert(args.end(), extra.begin(), extra.end());
    args.emplace_back("--");
    for (const auto& w : workload())
        args.push_back(w);
    const auto r = clitest::run(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return clitest::slurp(path);
}

} // namespace

TEST_CASE("CLI formats: each parses, and all four count the same events", "[bpf][cli]")
{
    TempDir dir;
    std::map<std::string, std::map<std::string, int>> counts;
    for (const std::string format : kFormats) {
        const std::string out = traced(format, dir, {"-T", "0"});
        INFO(format << " output:\n" << out);
        std::vector<clitest::Event> events;
        REQUIRE_NOTHROW(events = events_of(format, out));
        counts[format] = count_by_kind(events);
        // Every event belongs to a traced process.
        for (const auto& e : events) {
            CHECK(e.pid > 0);
            CHECK(e.tid > 0);
        }
    }
    const auto& json = counts["json"];
    INFO("json counts: " << nlohmann::json(json).dump());
    CHECK(json.at("exec") == 7); // exec_from_thread, sh, threads, forkchain, spawn_many, 2 true
    CHECK(json.at("fork") == 7); // sh 3, forkchain 2, spawn_many 2
    CHECK(json.at("exit") == 8);
    CHECK(json.at("lwp_create") == 6); // exec_from_thread 3, threads 3
    CHECK(json.at("init_lwp") == json.at("fini_lwp"));
    CHECK(json.count("tick") == 0);
    for (const std::string format : {"text", "csv", "chrome"}) {
        INFO(format << " counts: " << nlohmann::json(counts[format]).dump());
        CHECK(counts[format] == json);
    }
}

TEST_CASE("CLI formats: text has a pid column with -f, and the layout of cputrack", "[bpf][cli]")
{
    TempDir dir;
    const auto text = clitest::read_text(traced("text", dir, {"-T", "0"}));
    REQUIRE(text.columns == std::vector<std::string>{"time", "pid", "lwp", "event"});
    double last = 0;
    for (const auto& row : text.rows) {
        INFO(row.line);
        CHECK(row.time >= last);
        last = row.time;
        if (row.event == "fork")
            CHECK(std::stoi(row.note) > 0); // "# CHILDPID"
        if (row.event == "exec") {
            CHECK(row.note.front() == '\'');
            CHECK(row.note.back() == '\'');
        }
        if (row.event == "exit")
            CHECK(row.note.rfind("status ", 0) == 0);
    }
    // Without -f (and one process) there is no pid column.
    const std::string path = dir.file("plain.txt");
    const auto r = clitest::run({"run", "-q", "-o", path, "--", target("threads"), "2"});
    REQUIRE(r.status == 0);
    CHECK(clitest::read_text(clitest::slurp(path)).columns ==
          std::vector<std::string>{"time", "lwp", "event"});
}

TEST_CASE("CLI formats: CSV quotes per RFC 4180 and has one header", "[bpf][cli]")
{
    TempDir dir;
    const std::string out = traced("csv", dir, {"-T", "0"});
    CHECK(out.find("\r\n") != std::string::npos);
    const auto records = clitest::read_csv(out);
    REQUIRE(records.size() > 1);
    const auto& header = records.front();
    CHECK(header.at(0) == "time_ns");
    CHECK(header.at(1) == "event");
    std::size_t args_col = 0;
    for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == "args")
            args_col = i;
    REQUIRE(args_col != 0);
    // The shell's command line, with its comma and quotes, reads back whole.
    const std::string script = workload()[4];
    bool found = false;
    for (std::size_t r = 1; r < records.size(); ++r) {
        CHECK(records[r].at(0) != "time_ns"); // one header only
        if (records[r].at(1) == "exec" && records[r].at(args_col) == "/bin/sh -c " + script)
            found = true;
    }
    CHECK(found);
    // -n: no header.
    const std::string bare = traced("csv", dir, {"-T", "0", "-n"});
    CHECK(clitest::read_csv(bare).front().at(0) != "time_ns");
}

TEST_CASE("CLI formats: chrome is one JSON object with named tracks", "[bpf][cli]")
{
    TempDir dir;
    const auto doc = nlohmann::json::parse(traced("chrome", dir, {"-T", "0"}));
    REQUIRE(doc.is_object());
    CHECK(doc.at("displayTimeUnit") == "ns");
    const auto& events = doc.at("traceEvents");
    REQUIRE(events.is_array());
    std::set<int> named_processes;
    std::set<std::pair<int, int>> named_threads, used_threads;
    double last_ts = 0;
    bool first = true;
    for (const auto& e : events) {
        const std::string ph = e.at("ph");
        if (ph == "M") {
            const std::string name = e.at("name");
            CHECK(e.at("args").at("name").is_string());
            if (name == "process_name")
                named_processes.insert(e.at("pid").get<int>());
            else if (name == "thread_name")
                named_threads.insert({e.at("pid").get<int>(), e.at("tid").get<int>()});
            continue;
        }
        REQUIRE(ph == "i");
        const double ts = e.at("ts");
        if (first)
            CHECK(ts == 0.0); // microseconds since the first event
        first = false;
        CHECK(ts >= last_ts);
        last_ts = ts;
        CHECK(e.at("s") == "t");
        used_threads.insert({e.at("pid").get<int>(), e.at("tid").get<int>()});
        if (e.at("name") == "exec")
            CHECK(e.at("args").at("args").is_array());
        if (e.at("name") == "fork")
            CHECK(e.at("args").at("child_pid").is_number_integer());
        if (e.at("name") == "exit")
            CHECK(e.at("args").at("status").is_number_integer());
    }
    for (const auto& t : used_threads) {
        CHECK(named_processes.count(t.first) == 1);
        CHECK(named_threads.count(t) == 1);
    }
}

TEST_CASE("CLI formats: ticks appear in every format", "[bpf][cli]")
{
    TempDir dir;
    for (const std::string format : kFormats) {
        const std::string path = dir.file("ticks." + format);
        const auto r = clitest::run({"run", "-q", "-v", "-T", "0.05", "--format", format, "-o",
                                     path, "--", target("busy_threads"), "2", "300"});
        REQUIRE(r.status == 0);
        const std::string out = clitest::slurp(path);
        INFO(format << ":\n" << out);
        const auto counts = count_by_kind(events_of(format, out));
        CHECK(counts.count("tick") == 1);
        CHECK(counts.at("tick") >= 4); // 2 threads, ~6 rounds of 50 ms
    }
}

TEST_CASE("CLI formats: counters in every format", "[bpf][cli][counters]")
{
    TempDir dir;
    const std::vector<std::string> counters{"task-clock", "page-faults"};
    for (const std::string format : kFormats) {
        const std::string path = dir.file("counters." + format);
        const auto r = clitest::run({"run", "-q", "-v", "-T", "0.05", "-c",
                                     "task-clock,page-faults", "--format", format, "-o", path, "--",
                                     target("busy_threads"), "2", "300"});
        INFO(r.err);
        REQUIRE(r.status == 0);
        const std::string out = clitest::slurp(path);
        INFO(format << ":\n" << out);
        if (format == "json") {
            int ticks = 0;
            for (const auto& j : clitest::json_lines(out)) {
                const std::string ev = j["event"];
                if (ev == "tick") {
                    ++ticks;
                    for (const auto& c : counters) {
                        CHECK(j.at("counters").at(c).is_number_unsigned());
                        CHECK(j.at("deltas").at(c).is_number_unsigned());
                    }
                }
                if (ev == "fork" || ev == "lwp_create")
                    CHECK_FALSE(j.contains("counters"));
                if (ev == "exit" || ev == "fini_lwp" || ev == "lwp_exit" || ev == "exec")
                    CHECK(j.at("counters").size() == counters.size());
            }
            CHECK(ticks >= 4);
        } else if (format == "csv") {
            const auto records = clitest::read_csv(out);
            const auto& header = records.front();
            for (const auto& c : counters) {
                CHECK(std::count(header.begin(), header.end(), c) == 1);
                CHECK(std::count(header.begin(), header.end(), c + ".delta") == 1);
            }
            const auto col = [&](const std::string& name) {
                return std::find(header.begin(), header.end(), name) - header.begin();
            };
            int ticks = 0;
            for (std::size_t i = 1; i < records.size(); ++i) {
                if (records[i][1] != "tick")
                    continue;
                ++ticks;
                CHECK_FALSE(records[i][col("task-clock")].empty());
                CHECK_FALSE(records[i][col("task-clock.delta")].empty());
                CHECK(std::stoull(records[i][col("task-clock.delta")]) <=
                      std::stoull(records[i][col("task-clock")]));
            }
            CHECK(ticks >= 4);
        } else if (format == "chrome") {
            const auto doc = nlohmann::json::parse(out);
            std::set<std::string> tracks;
            std::set<int> tids;
            for (const auto& e : doc.at("traceEvents")) {
                if (e.at("ph") == "C") {
                    tracks.insert(e.at("name").get<std::string>());
                    CHECK(e.at("args").at("value").is_number_unsigned());
                }
                if (e.at("ph") == "i" && e.at("name") == "tick")
                    tids.insert(e.at("tid").get<int>());
            }
            REQUIRE(tids.size() == 2);
            for (int tid : tids)
                for (const auto& c : counters)
                    CHECK(tracks.count("lwp " + std::to_string(tid) + " " + c) == 1);
        } else {
            const auto text = clitest::read_text(out);
            CHECK(text.columns ==
                  std::vector<std::string>{"time", "lwp", "event", "task-clock", "page-faults"});
            int ticks = 0;
            for (const auto& row : text.rows)
                if (row.event == "tick") {
                    ++ticks;
                    CHECK(row.values.at("task-clock").has_value());
                    CHECK(row.values.at("page-faults").has_value());
                }
            CHECK(ticks >= 4);
        }
    }
}
