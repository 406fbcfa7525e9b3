// Sampling: -N and -T, -T 0, tick deltas, rotating -c sets, -t, and the text
// layout of counters (header, -n, -v, the two exec rows).
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using testsupport::target;

namespace {

using ThreadKey = std::pair<int, int>; // pid, tid

ThreadKey key_of(const nlohmann::json& j)
{
    return {j.at("pid").get<int>(), j.at("tid").get<int>()};
}

} // namespace

TEST_CASE("CLI -N 3 -T 0.1: three ticks per thread, then the command is killed, status 0",
          "[bpf][cli][timing]")
{
    // parked_threads waits for EOF on stdin, which this test holds open: it
    // would run for as long as the test does.
    clitest::Tracer tracer(
        {"run", "-N", "3", "-T", "0.1", "--format", "json", "--", target("parked_threads"), "3"});
    pid_t command = 0;
    std::optional<double> first_row;
    std::string out;
    const auto started = std::chrono::steady_clock::now();
    while (const auto line = tracer.read_line()) {
        out += *line + "\n";
        if (line->empty() || (*line)[0] != '{')
            continue;
        if (!first_row)
            first_row =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const auto j = nlohmann::json::parse(*line);
        if (j["event"] == "exec")
            command = j["pid"];
    }
    const auto r = tracer.finish();
    INFO(out << r.err);
    CHECK(r.status == 0);
    REQUIRE(first_row);
    CHECK(r.seconds - *first_row < 1.0); // the run itself: 3 × 0.1 s, then the end
    std::map<ThreadKey, int> ticks;
    std::set<ThreadKey> threads;
    for (const auto& j : clitest::json_lines(out)) {
        if (j["event"] == "init_lwp")
            threads.insert(key_of(j));
        if (j["event"] == "tick")
            ++ticks[key_of(j)];
    }
    CHECK(threads.size() == 3);
    for (const auto& t : threads) {
        INFO("lwp " << t.second);
        CHECK(ticks[t] == 3);
    }
    REQUIRE(command > 0);
    CHECK(testsupport::wait_all_gone({command}, std::chrono::seconds(5)));
    CHECK_FALSE(testsupport::alive(command));
}

TEST_CASE("CLI text: header, -n and -v", "[bpf][cli]")
{
    const std::vector<std::string> cmd{"--", target("threads"), "2"};
    auto text_of = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"run", "-q", "-T", "0"});
        args.insert(args.end(), cmd.begin(), cmd.end());
        const auto r = clitest::run(args);
        REQUIRE(r.status == 0);
        return r.out;
    };
    const std::string plain = text_of({});
    const std::string bare = text_of({"-n"});
    const std::string verbose = text_of({"-v"});
    INFO(plain << "--\n" << bare << "--\n" << verbose);
    CHECK(plain.rfind("     time     lwp      event\n", 0) == 0);
    CHECK(bare.find("time") == std::string::npos);
    CHECK(clitest::count_of(bare, "\n") + 1 == clitest::count_of(plain, "\n"));
    CHECK(clitest::count_of(plain, "init_lwp") == 0);
    CHECK(clitest::count_of(plain, "fini_lwp") == 0);
    CHECK(clitest::count_of(verbose, "init_lwp") == 3);
    CHECK(clitest::count_of(verbose, "fini_lwp") == 3);
    const auto rows = clitest::read_text(verbose).rows;
    REQUIRE_FALSE(rows.empty());
    CHECK(rows.front().event == "exec"); // one exec row without counters: args on it
    CHECK(rows.front().note.find(target("threads")) != std::string::npos);
}

TEST_CASE("CLI -T 0: no ticks, and totals on every lifecycle row", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-q", "-f", "-T", "0", "-c", "task-clock,page-faults",
                                 "--format", "json", "--", target("exec_from_thread"), "thread",
                                 "/bin/sh", "-c", target("threads") + " 2; exit 0"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    int rows = 0;
    for (const auto& j : clitest::json_lines(r.out)) {
        ++rows;
        const std::string ev = j["event"];
        INFO(j.dump());
        CHECK(ev != "tick");
        if (ev == "fork" || ev == "lwp_create") {
            CHECK_FALSE(j.contains("counters"));
            continue;
        }
        REQUIRE(j.contains("counters"));
        CHECK(j["counters"].at("task-clock").is_number_unsigned());
        CHECK(j["counters"].at("page-faults").is_number_unsigned());
        CHECK_FALSE(j.contains("deltas"));
        if (ev == "exit")
            CHECK(j["counters"]["task-clock"].get<std::uint64_t>() > 0);
    }
    CHECK(rows > 10);
}

TEST_CASE("CLI text with counters: columns and the two exec rows", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-q", "-v", "-f", "-T", "0", "-c", "task-clock", "--",
                                 "/bin/sh", "-c", "/bin/true; exit 0"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto text = clitest::read_text(r.out);
    CHECK(text.columns == std::vector<std::string>{"time", "pid", "lwp", "event", "task-clock"});
    int execs = 0;
    for (std::size_t i = 0; i < text.rows.size(); ++i) {
        const auto& row = text.rows[i];
        INFO(row.line);
        if (row.event == "fork") {
            CHECK_FALSE(row.values.at("task-clock").has_value());
            CHECK(std::stoi(row.note) > 0);
        } else if (!row.event.empty() && row.event != "lwp_create") {
            CHECK(row.values.at("task-clock").has_value());
        }
        if (row.event != "exec")
            continue;
        ++execs;
        // The old image's totals, then the new command line on a row of its own.
        CHECK(row.note.empty());
        REQUIRE(i + 1 < text.rows.size());
        const auto& next = text.rows[i + 1];
        CHECK(next.event.empty());
        CHECK(next.time == row.time);
        CHECK(next.note.front() == '\'');
        // The new image starts from zero: its init_lwp follows.
        if (i + 2 < text.rows.size()) {
            CHECK(text.rows[i + 2].event == "init_lwp");
        }
    }
    CHECK(execs == 2);
    CHECK(r.out.find("# '/bin/sh -c /bin/true; exit 0'") != std::string::npos);
    CHECK(r.out.find("# '/bin/true'") != std::string::npos);
}

TEST_CASE("CLI ticks: each thread's deltas add up to its running total", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-q", "-T", "0.05", "-c", "task-clock", "--format", "json",
                                 "--", target("busy_threads"), "3", "400"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::map<ThreadKey, std::uint64_t> sum, last_total, fini;
    std::map<ThreadKey, int> ticks;
    for (const auto& j : clitest::json_lines(r.out)) {
        const auto k = key_of(j);
        if (j["event"] == "tick") {
            const std::uint64_t total = j["counters"]["task-clock"];
            const std::uint64_t delta = j["deltas"]["task-clock"];
            CHECK(total >= last_total[k]);
            CHECK(delta == total - last_total[k]);
            sum[k] += delta;
            last_total[k] = total;
            ++ticks[k];
        }
        if (j["event"] == "fini_lwp")
            fini[k] = j["counters"]["task-clock"];
    }
    REQUIRE(ticks.size() == 3);
    for (const auto& [k, n] : ticks) {
        INFO("lwp " << k.second);
        CHECK(n >= 4);
        CHECK(sum[k] == last_total[k]);
        REQUIRE(fini.count(k) == 1);
        CHECK(fini[k] >= sum[k]);
        CHECK(sum[k] > 0);
    }
}

TEST_CASE("CLI two -c sets take turns, one per sample", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-q", "-T", "0.05", "-c", "task-clock", "-c",
                                 "page-faults,context-switches", "--format", "json", "--",
                                 target("busy_threads"), "4", "500"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const std::map<unsigned, std::set<std::string>> sets{{1, {"task-clock"}},
                                                         {2, {"page-faults", "context-switches"}}};
    std::map<ThreadKey, std::map<std::string, std::uint64_t>> last;
    std::map<std::uint64_t, std::set<unsigned>> set_at; // per round (time)
    std::map<unsigned, int> rows_of_set;
    std::set<ThreadKey> threads;
    for (const auto& j : clitest::json_lines(r.out)) {
        const std::string ev = j["event"];
        const auto k = key_of(j);
        if (ev == "tick") {
            INFO(j.dump());
            REQUIRE(j.contains("set"));
            const unsigned set = j["set"];
            REQUIRE(sets.count(set) == 1);
            ++rows_of_set[set];
            threads.insert(k);
            set_at[j["time_ns"].get<std::uint64_t>()].insert(set);
            std::set<std::string> names;
            for (const auto& [name, value] : j["counters"].items()) {
                names.insert(name);
                // Running totals never go back, whichever set shows them; a
                // delta covers the interval just ended, within what passed
                // since the set last showed the counter.
                CHECK(value.get<std::uint64_t>() >= last[k][name]);
                CHECK(j["deltas"].at(name).get<std::uint64_t>() <=
                      value.get<std::uint64_t>() - last[k][name]);
                last[k][name] = value;
            }
            CHECK(names == sets.at(set));
        }
        if (ev == "fini_lwp") {
            // Every counter of every set, at least what the ticks showed.
            INFO(j.dump());
            for (const auto& [set, names] : sets)
                for (const auto& name : names)
                    CHECK(j["counters"].at(name).get<std::uint64_t>() >= last[k][name]);
        }
        CHECK_FALSE((ev != "tick" && j.contains("set")));
    }
    CHECK(threads.size() == 4);
    CHECK(rows_of_set[1] >= 4);
    CHECK(rows_of_set[2] >= 4);
    // A round shows one set, and rounds alternate.
    std::vector<unsigned> order;
    for (const auto& [t, s] : set_at) {
        CHECK(s.size() == 1);
        order.push_back(*s.begin());
    }
    for (std::size_t i = 0; i < order.size(); ++i)
        CHECK(order[i] == 1 + i % 2);
}

TEST_CASE("CLI two -c sets in text: union columns, each tick names its set", "[bpf][cli][counters]")
{
    const auto r = clitest::run({"run", "-q", "-T", "0.05", "-c", "task-clock", "-c", "page-faults",
                                 "--", target("busy_threads"), "2", "300"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto text = clitest::read_text(r.out);
    CHECK(text.columns ==
          std::vector<std::string>{"time", "lwp", "event", "task-clock", "page-faults"});
    int ticks = 0;
    for (const auto& row : text.rows) {
        if (row.event != "tick")
            continue;
        ++ticks;
        INFO(row.line);
        if (row.note == "set 1") {
            CHECK(row.values.at("task-clock").has_value());
            CHECK_FALSE(row.values.at("page-faults").has_value());
        } else {
            CHECK(row.note == "set 2");
            CHECK_FALSE(row.values.at("task-clock").has_value());
            CHECK(row.values.at("page-faults").has_value());
        }
    }
    CHECK(ticks >= 4);
}

TEST_CASE("CLI -t: a tick column of cycles, or of CPU time without a PMU", "[bpf][cli][counters]")
{
    bool pmu = false;
    for (const auto& e : pctx::list_events())
        pmu = pmu || (e.name == "cycles" && e.available);
    const std::string expected = pmu ? "cycles" : "task-clock";
    const auto r = clitest::run({"run", "-q", "-t", "-T", "0.05", "-c", "page-faults", "--",
                                 target("busy_threads"), "2", "200"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto text = clitest::read_text(r.out);
    CHECK(text.columns ==
          std::vector<std::string>{"time", "lwp", "event", expected, "page-faults"});
    int ticks = 0;
    for (const auto& row : text.rows)
        if (row.event == "tick") {
            ++ticks;
            CHECK(row.values.at(expected).has_value());
        }
    CHECK(ticks >= 2);
}

TEST_CASE("CLI: more than 8 counters in all is a usage error", "[bpf][cli]")
{
    const auto r = clitest::run({"run", "-c", "cpu-clock,task-clock,page-faults,context-switches",
                                 "-c", "cpu-migrations,minor-faults,major-faults,alignment-faults",
                                 "-c", "emulation-faults", "--", "/bin/true"});
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("at most 8") != std::string::npos);
    CHECK(testsupport::no_orphan_pctx_programs());
}
