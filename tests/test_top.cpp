// pctx-bpf top: the model without a terminal; the batch mode's tables; the
// full-screen view in a real terminal (tmux) on a workload that forks, spins
// a thread and ends a child.
#include "support/test_support.hpp"
#include "test_cli_support.hpp"
#include "views/top_model.hpp"
#include "views/top_table.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <dirent.h>
#include <sched.h>

#include <algorithm>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using pctx::detail::TopModel;
using pctx::detail::TopRow;
using pctx::detail::TopView;

namespace {

constexpr std::uint64_t kSec = 1000000000ULL;

const std::vector<std::string> kDefault = {"task-clock", "context-switches", "page-faults"};

const TopRow* row_of(const std::vector<TopRow>& rows, pid_t pid, pid_t tid = 0)
{
    for (const auto& r : rows)
        if (r.pid == pid && r.tid == tid)
            return &r;
    return nullptr;
}

// What a shell command prints on stdout.
std::string output_of(const std::string& command)
{
    std::string out;
    if (std::FILE* p = ::popen(command.c_str(), "r")) {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;)
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::vector<std::string> words_of(const std::string& line)
{
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string w; in >> w;)
        words.push_back(w);
    return words;
}

// A row of a printed table: its mark and words (PID, [TID], USER, CPU%, ...).
struct Printed {
    char mark = ' ';
    std::vector<std::string> words;
};

// The row of pid (and tid, with threads) in a screen or a table.
std::optional<Printed> printed_row(const std::string& text, pid_t pid, pid_t tid = 0)
{
    for (const auto& line : lines_of(text)) {
        if (line.size() < 2)
            continue;
        const auto w = words_of(line.substr(1));
        if (w.size() < 4 || w[0] != std::to_string(pid))
            continue;
        if (tid != 0 && w[1] != std::to_string(tid))
            continue;
        return Printed{line[0], w};
    }
    return std::nullopt;
}

// The BPF programs a process holds through its fds (programs and links).
std::set<std::uint32_t> bpf_programs_held_by(pid_t pid)
{
    std::set<std::uint32_t> ids;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr)
        return ids;
    while (dirent* e = ::readdir(d)) {
        std::ifstream in(dir + "/" + e->d_name);
        for (std::string line; std::getline(in, line);)
            if (line.rfind("prog_id:", 0) == 0)
                ids.insert(static_cast<std::uint32_t>(std::stoul(line.substr(8))));
    }
    ::closedir(d);
    return ids;
}

// Waits (bounded) until none of the programs exists any more.
bool bpf_programs_gone(const std::set<std::uint32_t>& ids)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        bool any = false;
        for (std::uint32_t id : ids) {
            const int fd = ::bpf_prog_get_fd_by_id(id);
            if (fd >= 0) {
                ::close(fd);
                any = true;
            }
        }
        if (!any)
            return true;
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// A tmux server of its own, running one command in a 120x40 window.
class Tmux {
public:
    explicit Tmux(const std::string& command)
        : tmux_("tmux -L pctx-top-test-" + std::to_string(::getpid()) + " -f /dev/null ")
    {
        ::system((tmux_ + "new-session -d -s top -x 120 -y 40 '" + command + "'").c_str());
        ::system((tmux_ + "set-option -t top remain-on-exit on").c_str());
    }
    ~Tmux() { ::system((tmux_ + "kill-server 2>/dev/null").c_str()); }
    Tmux(const Tmux&) = delete;
    Tmux& operator=(const Tmux&) = delete;

    std::string capture(bool attributes = false) const
    {
        return output_of(tmux_ + "capture-pane -p " + (attributes ? "-e " : "") + "-t top");
    }
    std::string format(const std::string& f) const
    {
        std::string s = output_of(tmux_ + "display-message -p -t top '" + f + "'");
        while (!s.empty() && s.back() == '\n')
            s.pop_back();
        return s;
    }
    void resize(int columns, int rows) const
    {
        ::system((tmux_ + "resize-window -t top -x " + std::to_string(columns) + " -y " +
                  std::to_string(rows))
                     .c_str());
    }
    void keys(const std::string& keys) const
    {
        ::system((tmux_ + "send-keys -t top " + keys).c_str());
    }
    // Polls the screen until pred holds (bounded); the last screen seen.
    bool wait_for(const std::function<bool(const std::string&)>& pred, std::string& last,
                  bool attributes = false, std::chrono::seconds limit = std::chrono::seconds(20))
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            last = capture(attributes);
            if (pred(last))
                return true;
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(40));
        }
    }

private:
    std::string tmux_;
};

// The machine's other work (builds, other tests, in cgroups of their own)
// leaves a plain spinner far from 100%: real-time priority puts it first
// (the kernel still keeps a few percent for the rest).
void spin_first(pid_t tid)
{
    sched_param sp{};
    sp.sched_priority = 1;
    REQUIRE(::sched_setscheduler(tid, SCHED_FIFO, &sp) == 0);
}

// The tables of top -b's output, each from its title line.
std::vector<std::string> tables_of(const std::string& out)
{
    std::vector<std::string> tables;
    for (auto at = out.find("pctx-bpf top - "); at != std::string::npos;) {
        const auto next = out.find("pctx-bpf top - ", at + 1);
        tables.push_back(out.substr(at, next == std::string::npos ? next : next - at));
        at = next;
    }
    return tables;
}

double cpu_word(const Printed& p, bool threads)
{
    return std::stod(p.words[threads ? 3 : 2]);
}

} // namespace

TEST_CASE("top model: rates over the last refresh, per process and per thread", "[top]")
{
    TopModel m(kDefault, 0);
    m.describe(10, "root", "spin", 0);
    m.thread_start(10, 10, 0);
    m.thread_values(10, 10, {kSec / 2, 20, 4});
    m.refresh(kSec);
    auto rows = m.rows(TopView{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].rates == std::vector<double>{50.0, 20.0, 4.0});
    CHECK(rows[0].state() == "run");
    CHECK_FALSE(rows[0].is_new);
    CHECK(rows[0].command == "spin");

    // A second thread born half-way: its rate is per second of the interval.
    m.thread_start(10, 11, kSec * 3 / 2);
    m.thread_values(10, 11, {kSec / 4, 0, 0});
    m.thread_values(10, 10, {kSec, 20, 4});
    m.refresh(2 * kSec);
    rows = m.rows(TopView{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].rates[0] == Approx(75.0));
    CHECK(rows[0].rates[1] == Approx(0.0));
    CHECK(m.totals().threads == 2);
    TopView threads;
    threads.threads = true;
    rows = m.rows(threads);
    REQUIRE(rows.size() == 2);
    REQUIRE(row_of(rows, 10, 11) != nullptr);
    CHECK(row_of(rows, 10, 11)->rates[0] == Approx(25.0));
    CHECK(row_of(rows, 10, 11)->is_new);
    CHECK(row_of(rows, 10, 10)->rates[0] == Approx(50.0));
    CHECK_FALSE(row_of(rows, 10, 10)->is_new);

    // Nothing counted: asleep.
    m.refresh(3 * kSec);
    CHECK(row_of(m.rows(TopView{}), 10)->state() == "sleep");
}

TEST_CASE("top model: a forked child is marked new, an exited one stays one refresh", "[top]")
{
    TopModel m(kDefault, 0);
    m.describe(10, "alice", "make -j2", 0);
    m.thread_start(10, 10, 0);
    m.refresh(kSec);
    m.fork(10, 20, kSec + 1);
    m.thread_start(20, 20, kSec + 1);
    m.thread_values(20, 20, {kSec / 10, 1, 100});
    // Shown at once, before any rate: marked, pending.
    auto rows = m.rows(TopView{});
    const TopRow* child = row_of(rows, 20);
    REQUIRE(child != nullptr);
    CHECK(child->is_new);
    CHECK(child->state() == "new");
    CHECK(child->command == "make -j2");
    m.refresh(2 * kSec);
    rows = m.rows(TopView{});
    child = row_of(rows, 20);
    REQUIRE(child != nullptr);
    CHECK(child->is_new);
    CHECK(child->user == "alice");
    CHECK(child->command == "make -j2");
    CHECK(m.totals().forks_per_s == Approx(1.0));

    m.exec(20, "cc -c a.c", 2 * kSec + 1);
    m.thread_values(20, 20, {kSec / 5, 2, 150});
    m.thread_end(20, 20, 2 * kSec + 1); // the old image ends, the new one starts from zero
    m.thread_start(20, 20, 2 * kSec + 1);
    m.thread_values(20, 20, {kSec / 10, 0, 10});
    m.thread_end(20, 20, kSec * 5 / 2);
    m.exit(20, 7 << 8, kSec * 5 / 2);
    m.refresh(3 * kSec);
    rows = m.rows(TopView{});
    child = row_of(rows, 20);
    REQUIRE(child != nullptr);
    CHECK(child->exited);
    CHECK_FALSE(child->is_new);
    CHECK(child->state() == "exit 7");
    CHECK(child->command == "cc -c a.c");
    // 0.1 s of the old image after the last refresh and 0.1 s of the new, in 1 s.
    CHECK(child->rates[0] == Approx(20.0));
    CHECK(m.totals().exits_per_s == Approx(1.0));
    CHECK(m.totals().processes == 1);
    CHECK(m.live_pids() == std::vector<pid_t>{10});

    TopView threads;
    threads.threads = true;
    REQUIRE(row_of(m.rows(threads), 20, 20) != nullptr);
    CHECK(row_of(m.rows(threads), 20, 20)->state() == "exit 7");

    m.refresh(4 * kSec);
    CHECK(row_of(m.rows(TopView{}), 20) == nullptr);
    CHECK(row_of(m.rows(threads), 20, 20) == nullptr);

    m.fork(10, 21, 4 * kSec);
    m.thread_start(21, 21, 4 * kSec);
    m.exit(21, SIGKILL, 4 * kSec + 1);
    m.refresh(5 * kSec);
    REQUIRE(row_of(m.rows(TopView{}), 21) != nullptr);
    CHECK(row_of(m.rows(TopView{}), 21)->state() == "SIGKILL");
}

TEST_CASE("top model: sorted by any column, filtered by command", "[top]")
{
    TopModel m(kDefault, 0);
    const std::vector<std::pair<pid_t, std::uint64_t>> procs = {{30, 1}, {31, 3}, {32, 2}};
    for (const auto& [pid, tenths] : procs) {
        m.describe(pid, "root", "worker " + std::to_string(pid), 0);
        m.thread_start(pid, pid, 0);
        m.thread_values(pid, pid, {tenths * kSec / 10, 0, 0});
    }
    m.describe(40, "root", "other", 0);
    m.thread_start(40, 40, 0);
    m.refresh(kSec);

    TopView v;
    v.sort = 2; // CPU%: PID, USER, CPU%, ...
    auto pids = [&] {
        std::vector<pid_t> out;
        for (const auto& r : m.rows(v))
            out.push_back(r.pid);
        return out;
    };
    CHECK(pids() == std::vector<pid_t>{31, 32, 30, 40});
    v.ascending = true;
    CHECK(pids() == std::vector<pid_t>{40, 30, 32, 31});
    v.sort = 0;
    CHECK(pids() == std::vector<pid_t>{30, 31, 32, 40});
    v.filter = "worker";
    CHECK(pids() == std::vector<pid_t>{30, 31, 32});
    v.filter = "oth";
    CHECK(pids() == std::vector<pid_t>{40});
    const auto cols = pctx::detail::top_columns(m.columns(), false);
    CHECK(cols == std::vector<std::string>{"PID", "USER", "CPU%", "CSW/s", "FLT/s", "LIFE", "STATE",
                                           "COMMAND"});
    v.sort = cols.size() - 1; // COMMAND
    v.filter.clear();
    v.ascending = false;
    CHECK(pids() == std::vector<pid_t>{32, 31, 30, 40});
}

TEST_CASE("top model: IPC when cycles and instructions both count", "[top]")
{
    const auto cols = pctx::detail::rate_columns({"cpu-clock", "cycles", "instructions:u"});
    REQUIRE(cols.size() == 4);
    CHECK(cols[0].title == "CPU%");
    CHECK(cols[3].title == "IPC");
    CHECK(pctx::detail::rate_columns({"cycles", "page-faults"}).size() == 2);

    TopModel m({"cycles", "instructions"}, 0);
    m.thread_start(5, 5, 0);
    m.thread_values(5, 5, {1000, 2500});
    m.refresh(kSec);
    const auto rows = m.rows(TopView{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].rates == std::vector<double>{1000.0, 2500.0, 2.5});
}

TEST_CASE("top table: marks, columns and lifetimes as text", "[top]")
{
    TopModel m(kDefault, 0);
    m.describe(10, "root", "sh -c x", 0);
    m.thread_start(10, 10, 0);
    m.refresh(kSec);
    m.fork(10, 11, kSec);
    m.thread_start(11, 11, kSec);
    m.fork(10, 12, kSec);
    m.thread_start(12, 12, kSec);
    m.thread_end(12, 12, kSec);
    m.exit(12, 3 << 8, kSec);
    m.refresh(2 * kSec);
    TopView v;
    const auto table = pctx::detail::format_table(m, v, 0);
    CHECK(table.header.find("PID USER") != std::string::npos);
    REQUIRE(table.lines.size() == 3);
    const std::string all = table.header + "\n" + table.lines[0].text + "\n" + table.lines[1].text +
                            "\n" + table.lines[2].text;
    INFO(all);
    const auto child = printed_row(all, 11);
    REQUIRE(child);
    CHECK(child->mark == '+');
    const auto gone = printed_row(all, 12);
    REQUIRE(gone);
    CHECK(gone->mark == 'x');
    CHECK(all.find("exit 3") != std::string::npos);
    CHECK(pctx::detail::format_table(m, v, 20).header.size() == 20);
    CHECK(pctx::detail::format_lifetime(kSec / 2) == "0.5s");
    CHECK(pctx::detail::format_lifetime(125 * kSec) == "2:05");
    CHECK(pctx::detail::format_lifetime(7500 * kSec) == "2h05m");
}

TEST_CASE("top: every process by default (this test among them), and a path that is no cgroup",
          "[top][bpf]")
{
    // The machine: this test process is among the rows of each table.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"top", "-b", "-n", "1", "-d", "0.2"}, {"top", "-a", "-b", "-n", "1", "-d", "0.2"}}) {
        const auto r = clitest::run(args);
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out.find(" " + std::to_string(::getpid()) + " ") != std::string::npos);
    }
    const auto not_cgroup = clitest::run({"top", "-b", "--cgroup", "/tmp"});
    CHECK(not_cgroup.status == 1);
    CHECK(not_cgroup.err.find("not a cgroup v2 directory") != std::string::npos);
}

TEST_CASE("top: usage errors, and the man page", "[top]")
{
    CHECK(clitest::run({"top", "-a", "-p", "1"}).status == 2);
    CHECK(clitest::run({"top", "-f"}).status == 2);
    CHECK(clitest::run({"top", "-d", "0", "-p", "1"}).status == 2);
    CHECK(clitest::run({"top", "-n", "2", "-p", "1"}).status == 2);
    CHECK(clitest::run({"top", "-p", "1", "--", "true"}).status == 2);

    // Every option of top --help is in the man page, in the same words.
    const auto help = clitest::run({"top", "--help"});
    REQUIRE(help.status == 0);
    std::ifstream in(std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/')) +
                     "/../docs/pctx-bpf.1");
    std::string man((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto at = man.find("\\-"); at != std::string::npos; at = man.find("\\-", at + 1))
        man.replace(at, 2, "-");
    std::size_t options = 0;
    for (const auto& line : lines_of(help.out)) {
        const auto w = words_of(line);
        if (line.rfind("  -", 0) != 0 || w.empty() || w[0] == "-h,--help")
            continue;
        ++options;
        INFO(line);
        std::istringstream names(w[0]);
        for (std::string n; std::getline(names, n, ',');)
            CHECK(man.find(n) != std::string::npos);
        const auto gap = line.find("  ", 2 + w[0].size());
        const std::string description = line.substr(line.find_first_not_of(' ', gap));
        CHECK(man.find("\n" + description + "\n") != std::string::npos);
    }
    CHECK(options == 8);
}

TEST_CASE("top -b -n 2 -p PID: two tables, a spinning thread near 100% CPU", "[top][bpf][timing]")
{
    testsupport::Child spinner({testsupport::target("busy_threads"), "1", "60000"});
    spin_first(spinner.pid());
    const auto r =
        clitest::run({"top", "-b", "-n", "2", "-d", "1", "-p", std::to_string(spinner.pid())});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto tables = tables_of(r.out);
    REQUIRE(tables.size() == 2);
    for (const auto& t : tables) {
        CHECK(t.find("      PID USER         CPU%    CSW/s    FLT/s") != std::string::npos);
        const auto row = printed_row(t, spinner.pid());
        REQUIRE(row);
        CHECK(row->words.back() == "60000");
        const double cpu = cpu_word(*row, false);
        CHECK(cpu >= 90.0);
        CHECK(cpu <= 110.0);
    }
    CHECK(r.out.find("processes 1  threads 1") != std::string::npos);
}

TEST_CASE("top -b -- COMMAND: a started child marked new, an exited one shown once", "[top][bpf]")
{
    const auto r = clitest::run({"top", "-b", "-n", "4", "-d", "0.5", "--", "/bin/sh", "-c",
                                 "/bin/sh -c 'exit 3'; sleep 30; exit 0"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto tables = tables_of(r.out);
    REQUIRE(tables.size() == 4);
    // The inner shell's exit: in one table, marked, with its status; gone from the next.
    std::size_t exit_table = tables.size();
    for (std::size_t i = 0; i < tables.size() && exit_table == tables.size(); ++i)
        for (const auto& line : lines_of(tables[i]))
            if (line.find(" exit 3   ") != std::string::npos) {
                CHECK(line[0] == 'x');
                exit_table = i;
            }
    REQUIRE(exit_table < tables.size() - 1);
    CHECK(tables[exit_table + 1].find(" exit 3   ") == std::string::npos);
    // sleep, forked then (the exit after it keeps busybox's sh from exec'ing
    // it in place): marked in its first table, unmarked and asleep in the last.
    auto sleep_row = [](const std::string& table, char mark) {
        const auto lines = lines_of(table);
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
            return !l.empty() && l[0] == mark && l.find(" sleep 30") != std::string::npos &&
                   l.find("sh -c") == std::string::npos;
        });
    };
    std::size_t first = 0;
    while (first < tables.size() && !sleep_row(tables[first], '+'))
        ++first;
    CHECK(first < tables.size() - 1);
    CHECK(sleep_row(tables.back(), ' '));
    CHECK(tables.back().find(" sleep    sleep 30") != std::string::npos);
    CHECK(r.out.find("lost 0") != std::string::npos);
}

TEST_CASE("top in a terminal: rows, a new child, an exited one dimmed, threads, resize, q",
          "[top][bpf][hostonly]")
{
    REQUIRE(::system("command -v tmux >/dev/null") == 0);
    testsupport::Child work({testsupport::target("top_workload")});
    const auto ready = words_of(work.read_line());
    REQUIRE(ready.size() == 3);
    const pid_t pid = std::stoi(ready[1]);
    const pid_t spinner = std::stoi(ready[2]);
    spin_first(spinner);

    // After top, the shell tells its status and the terminal's modes.
    Tmux tmux(testsupport::cli() + " top -d 0.5 -f -p " + std::to_string(pid) +
              "; s=$?; stty -a; echo top-status=$s");
    std::string screen;

    // The workload's row, with its command and its spinning thread's CPU.
    const bool spinning = tmux.wait_for(
        [&](const std::string& s) {
            const auto row = printed_row(s, pid);
            return row && s.find("top_workload") != std::string::npos &&
                   cpu_word(*row, false) >= 90.0 && cpu_word(*row, false) <= 110.0;
        },
        screen);
    INFO(screen);
    REQUIRE(spinning);
    CHECK(screen.find("PID USER         CPU%") != std::string::npos);
    CHECK(tmux.format("#{alternate_on}") == "1");
    // top is the shell's child, on screen now.
    const std::string shell = tmux.format("#{pane_pid}");
    std::ifstream children("/proc/" + shell + "/task/" + shell + "/children");
    pid_t top_pid = 0;
    REQUIRE(children >> top_pid);
    const auto programs = bpf_programs_held_by(top_pid);
    CHECK_FALSE(programs.empty());

    // A child appears at once, marked.
    work.send("fork\n");
    const pid_t child = std::stoi(work.read_line());
    REQUIRE(tmux.wait_for(
        [&](const std::string& s) {
            const auto row = printed_row(s, child);
            return row && row->mark == '+';
        },
        screen));

    // It exits: shown once more, dimmed, with its status.
    work.send("exit\n");
    REQUIRE(work.read_line() == "reaped");
    const std::string child_text = " " + std::to_string(child) + " ";
    REQUIRE(tmux.wait_for(
        [&](const std::string& s) {
            for (const auto& line : lines_of(s)) {
                const auto at = line.find(child_text);
                if (at != std::string::npos && line.find("exit 7") != std::string::npos &&
                    line.find("\x1b[2m") < at)
                    return true;
            }
            return false;
        },
        screen, true));

    // Threads: the spinner's own row, near 100%.
    tmux.keys("H");
    REQUIRE(tmux.wait_for(
        [&](const std::string& s) {
            const auto row = printed_row(s, pid, spinner);
            return s.find("TID USER") != std::string::npos && row && printed_row(s, pid, pid) &&
                   cpu_word(*row, true) >= 90.0;
        },
        screen));

    // A smaller terminal: the footer moves to its new last lines.
    tmux.resize(100, 20);
    REQUIRE(tmux.wait_for(
        [&](const std::string& s) {
            const auto lines = lines_of(s);
            return lines.size() >= 19 && lines[18].rfind("processes ", 0) == 0 &&
                   lines[1].find("TID USER") != std::string::npos;
        },
        screen));

    // q: exit 0, the terminal back from the alternate screen, nothing attached.
    tmux.keys("q");
    REQUIRE(tmux.wait_for(
        [&](const std::string& s) { return s.find("top-status=") != std::string::npos; }, screen));
    INFO("after q:\n" << screen);
    CHECK(screen.find("top-status=0\n") != std::string::npos);
    CHECK(screen.find(" icanon ") != std::string::npos);
    CHECK(screen.find(" echo ") != std::string::npos);
    CHECK(tmux.format("#{alternate_on}") == "0");
    CHECK(screen.find("CPU%") == std::string::npos);
    CHECK(bpf_programs_gone(programs));
    CHECK(testsupport::alive(pid)); // captured, so left running
    work.send("quit\n");
    CHECK(WIFEXITED(work.wait()));
}
