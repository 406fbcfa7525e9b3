// pctx-bpf run against what a traced command controls: its arguments
// (newlines, escape sequences, invalid UTF-8, a 1 MiB list) and its
// descriptors (stdin closed under the tracer).
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

using clitest::TempDir;

namespace {

// A newline that would start a forged exit row, an escape sequence that
// would clear the screen, a CSI as a C1 control, DEL, and invalid UTF-8.
const std::string kForged = "x\n    9.999    4242    4242       exit  # status 0";
const std::string kEscape = "\x1b[2J\xc2\x9b"
                            "31m\x7f";
const std::string kInvalid = "caf\xe9 \xff\xfe";

std::vector<std::string> hostile_command()
{
    return {"/bin/true", kForged, kEscape, kInvalid};
}

std::vector<std::string> run_args(const std::string& format, const std::string& path)
{
    std::vector<std::string> args{"run", "-T", "0", "--format", format, "-o", path, "--"};
    for (const auto& a : hostile_command())
        args.push_back(a);
    return args;
}

std::string from_hex(const std::string& hex)
{
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return bytes;
}

bool has_control(const std::string& s)
{
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if ((b < 0x20 && b != '\n') || b == 0x7f)
            return true;
    }
    return s.find("\xc2\x9b") != std::string::npos;
}

} // namespace

TEST_CASE("CLI text: arguments cannot forge rows or reach the terminal", "[bpf][cli][hostile]")
{
    TempDir dir;
    const auto r = clitest::run(run_args("text", dir.file("out")));
    INFO(r.err);
    REQUIRE(r.status == 0);
    const std::string out = clitest::slurp(dir.file("out"));
    INFO(out);
    CHECK_FALSE(has_control(out));
    CHECK_FALSE(has_control(r.err)); // the summary's command column
    CHECK(out.find("4242") != std::string::npos);
    // Exactly the real rows: exec, and exit; nothing starting with the forgery.
    const auto text = clitest::read_text(out);
    std::size_t exits = 0;
    for (const auto& row : text.rows) {
        CHECK(row.pid != 4242);
        exits += row.event == "exit";
    }
    CHECK(exits == 1);
    // Escaped, reversibly, byte for byte.
    CHECK(out.find("x\\n    9.999") != std::string::npos);
    CHECK(out.find("\\e[2J\\xc2\\x9b31m\\x7f") != std::string::npos);
    CHECK(out.find("caf\\xe9 \\xff\\xfe") != std::string::npos);
    CHECK(r.err.find("\\e[2J") != std::string::npos);
}

TEST_CASE("CLI json and csv: hostile arguments stay valid and whole", "[bpf][cli][hostile]")
{
    TempDir dir;
    const auto expected = hostile_command();
    SECTION("json")
    {
        const auto r = clitest::run(run_args("json", dir.file("out")));
        INFO(r.err);
        REQUIRE(r.status == 0);
        const std::string out = clitest::slurp(dir.file("out"));
        std::vector<nlohmann::json> lines;
        REQUIRE_NOTHROW(lines = clitest::json_lines(out));
        const nlohmann::json* exec = nullptr;
        for (const auto& j : lines)
            if (j.at("event") == "exec")
                exec = &j;
        REQUIRE(exec);
        INFO(exec->dump());
        const auto args = exec->at("args").get<std::vector<std::string>>();
        REQUIRE(args.size() == expected.size());
        CHECK(args[1] == kForged); // valid UTF-8 passes whole (JSON escapes controls)
        CHECK(args[2] == kEscape);
        const auto hex = exec->at("args_hex").get<std::vector<std::string>>();
        REQUIRE(hex.size() == expected.size());
        for (std::size_t i = 0; i < hex.size(); ++i)
            CHECK(from_hex(hex[i]) == expected[i]);
    }
    SECTION("csv")
    {
        const auto r = clitest::run(run_args("csv", dir.file("out")));
        INFO(r.err);
        REQUIRE(r.status == 0);
        const auto records = clitest::read_csv(clitest::slurp(dir.file("out")));
        std::string joined;
        for (const auto& a : expected)
            joined += (joined.empty() ? "" : " ") + a;
        std::size_t execs = 0;
        for (const auto& rec : records) {
            if (rec.size() > 5 && rec[1] == "exec") {
                ++execs;
                CHECK(rec[5] == joined);
            }
        }
        CHECK(execs == 1);
    }
}

TEST_CASE("CLI: a 1 MiB argument list is truncated and flagged, later events intact",
          "[bpf][cli][hostile]")
{
    TempDir dir;
    std::vector<std::string> args{"run",      "-f",      "-T", "0",
                                  "--format", "json",    "-o", dir.file("out"),
                                  "--",       "/bin/sh", "-c", "/bin/echo next >/dev/null",
                                  "sh"};
    for (int i = 0; i < 16; ++i)
        args.emplace_back(64 * 1024, static_cast<char>('a' + i));
    const auto r = clitest::run(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto lines = clitest::json_lines(clitest::slurp(dir.file("out")));
    std::vector<nlohmann::json> execs, exits;
    for (const auto& j : lines) {
        if (j.at("event") == "exec")
            execs.push_back(j);
        if (j.at("event") == "exit")
            exits.push_back(j);
    }
    REQUIRE(execs.size() == 2);
    CHECK(execs[0].value("args_truncated", false));
    CHECK(execs[0].at("args").at(0) == "/bin/sh");
    CHECK(execs[1].at("args") == nlohmann::json({"/bin/echo", "next"}));
    CHECK_FALSE(execs[1].value("args_truncated", false));
    // dash forks for echo, busybox's sh execs it in place: one exit or two.
    REQUIRE_FALSE(exits.empty());
    for (const auto& e : exits)
        CHECK(e.at("status") == 0);
}

TEST_CASE("CLI: with stdin closed, -o's file is not the command's fd 0", "[bpf][cli][hostile]")
{
    TempDir dir;
    const std::string path = dir.file("out");
    std::vector<std::string> argv{testsupport::cli(),
                                  "run",
                                  "-q",
                                  "-o",
                                  path,
                                  "--",
                                  "/bin/sh",
                                  "-c",
                                  "echo \"    9.999 forged-$((40 + 2))\" >&0; exit 0"};
    std::vector<char*> cargs;
    cargs.reserve(argv.size() + 1);
    for (auto& a : argv)
        cargs.push_back(a.data());
    cargs.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(0);
        const int null = ::open("/dev/null", O_WRONLY); // lands on fd 0: moved away below
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::close(null);
        ::execv(cargs[0], cargs.data());
        ::_exit(127);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    const std::string out = clitest::slurp(path);
    INFO(out);
    CHECK(out.find("forged-42") == std::string::npos); // the command line says $((40 + 2))
    CHECK(out.find("exec") != std::string::npos);
}

TEST_CASE("CLI: the command inherits no descriptor of the tracer's", "[bpf][cli][hostile]")
{
    TempDir dir;
    // With counters and -o, the tracer holds BPF, perf and file descriptors;
    // the shell lists its own (ls prints the names of /proc/<sh>/fd; the
    // exit after it keeps a shell that would exec its last command, as
    // busybox's does, from listing ls's own directory fd instead).
    const auto r = clitest::run({"run", "-q", "-f", "-c", "task-clock", "-o", dir.file("out"), "--",
                                 "/bin/sh", "-c", "ls /proc/$$/fd; exit 0"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "0\n1\n2\n");
}
