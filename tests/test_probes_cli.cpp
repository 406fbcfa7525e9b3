// pctx-bpf probe list / trace: the CLI over the probe API, its formats and
// its errors, including a user without CAP_SYS_ADMIN.
#include "probe_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using probetest::Cli;
using probetest::SdtTarget;

TEST_CASE("probe list -p shows every probe, as JSON", "[probes]")
{
    SdtTarget target;
    Cli cli({"probe", "list", "--format", "json", "-p", std::to_string(target.pid())});
    REQUIRE(cli.finish() == 0);
    std::map<std::string, std::size_t> nargs;
    for (const auto& j : clitest::json_lines(cli.out()))
        if (j["provider"] == "pctxtest") {
            nargs[j["name"].get<std::string>()] = j["args"].size();
            CHECK(j["object"] == testsupport::target("sdt_probes"));
        }
    CHECK(nargs ==
          std::map<std::string, std::size_t>{
              {"zero", 0}, {"one", 1}, {"three", 3}, {"six", 6}, {"twelve", 12}, {"guarded", 1}});
}

TEST_CASE("probe list BINARY reads the file as tplist -v does", "[probes]")
{
    Cli cli({"probe", "list", testsupport::target("sdt_probes")});
    REQUIRE(cli.finish() == 0);
    CHECK(cli.out().find("pctxtest:guarded [sema 0x") != std::string::npos);
    CHECK(cli.out().find("argument #12 1 unsigned bytes @ $-1") != std::string::npos);
    CHECK(cli.out().find("argument #3 8 signed bytes @") != std::string::npos);
}

TEST_CASE("probe trace prints every hit with its arguments until the target exits", "[probes][bpf]")
{
    SdtTarget target;
    Cli cli(
        {"probe", "trace", "--format", "json", "-p", std::to_string(target.pid()), "pctxtest:*"});
    REQUIRE(cli.wait_stderr("tracing 6 probes"));
    REQUIRE(target.command("f 3") == "fired");
    const pid_t pid = target.pid();
    CHECK(target.end() == 0);
    REQUIRE(cli.finish() == 0);
    std::map<std::string, int> counts;
    for (const auto& j : clitest::json_lines(cli.out())) {
        CHECK(j["event"] == "probe");
        CHECK(j["pid"] == pid);
        CHECK(j["time_ns"].get<std::uint64_t>() > 0);
        const std::string name = j["name"];
        const int k = ++counts[name];
        if (name == "six") {
            CHECK(j["args"][0].get<std::int64_t>() == -k);
            CHECK(j["args"][5].get<std::uint64_t>() == 18000000000000000000ULL + k);
            CHECK(j["args"][4].get<std::int64_t>() == -1234567890123LL * k);
        }
    }
    CHECK(counts ==
          std::map<std::string, int>{
              {"zero", 3}, {"one", 3}, {"three", 3}, {"six", 3}, {"twelve", 3}, {"guarded", 3}});
}

TEST_CASE("probe trace --format chrome: one instant event a hit, a whole trace at SIGINT",
          "[probes][bpf]")
{
    SdtTarget target;
    Cli cli({"probe", "trace", "--format", "chrome", "-p", std::to_string(target.pid()),
             "pctxtest:one"});
    REQUIRE(cli.wait_stderr("tracing 1 probes"));
    REQUIRE(target.command("f 2") == "fired");
    cli.signal(SIGINT);
    REQUIRE(cli.finish() == 0);
    INFO(cli.out());
    const auto trace = nlohmann::json::parse(cli.out());
    const auto& events = trace.at("traceEvents");
    REQUIRE(events.size() == 2);
    for (const auto& e : events) {
        CHECK(e.at("name") == "pctxtest:one");
        CHECK(e.at("ph") == "i");
        CHECK(e.at("pid") == target.pid());
        CHECK(e.at("args").at("args").size() == 1);
    }
    CHECK(events[0].at("ts").get<double>() == 0.0);
    CHECK(events[1].at("ts").get<double>() >= 0.0);
}

TEST_CASE("probe trace writes CSV and text, and stops at SIGINT", "[probes][bpf]")
{
    for (const std::string format : {"csv", "text"}) {
        SdtTarget target;
        Cli cli({"probe", "trace", "--format", format, "-p", std::to_string(target.pid()),
                 "pctx*:on*"});
        REQUIRE(cli.wait_stderr("tracing 1 probes"));
        REQUIRE(target.command("f 2") == "fired");
        cli.signal(SIGINT);
        const int status = cli.finish();
        INFO(format << ": " << cli.err());
        REQUIRE(status == 0);
        if (format == "csv") {
            const auto rows = clitest::read_csv(cli.out());
            REQUIRE(rows.size() == 3);
            CHECK(rows[0][0] == "time_ns");
            CHECK(rows[2][3] == "pctxtest");
            CHECK(rows[2][5] == "-200000");
        } else {
            CHECK(clitest::count_of(cli.out(), " pctxtest:one -") == 2);
        }
        CHECK(target.command("s") == "sem 0");
    }
}

TEST_CASE("probe trace errors: no process, no match, bad pattern", "[probes]")
{
    Cli none({"probe", "trace", "-p", "999999999", "a:b"});
    CHECK(none.finish() == 1);
    CHECK(none.err().find("no process 999999999") != std::string::npos);
    SdtTarget target;
    Cli nomatch({"probe", "trace", "-p", std::to_string(target.pid()), "pctxtest:nothing*"});
    CHECK(nomatch.finish() == 1);
    CHECK(nomatch.err().find("no probe of process") != std::string::npos);
    CHECK(nomatch.err().find("'pctxtest:nothing*'") != std::string::npos);
    Cli bad({"probe", "trace", "-p", std::to_string(target.pid()), "justaname"});
    CHECK(bad.finish() == 2);
    Cli both({"probe", "list", "-p", "1", "/bin/true"});
    CHECK(both.finish() == 2);
    testsupport::Child bare({testsupport::target("no_probes")});
    REQUIRE(bare.read_line() == "ready");
    Cli noprobes({"probe", "list", "-p", std::to_string(bare.pid())});
    CHECK(noprobes.finish() == 1);
    CHECK(noprobes.err().find("has no USDT probes") != std::string::npos);
}

namespace {

constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// A copy of a built program where user nobody can run it.
std::string copy_for_nobody(const std::string& from, const std::string& dir)
{
    std::string to = dir + "/" + from.substr(from.rfind('/') + 1);
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    out.close();
    ::chmod(to.c_str(), 0755);
    return to;
}

// Becomes user nobody; with bpf_caps, keeps exactly CAP_BPF and CAP_PERFMON
// across exec (ambient). For a forked child before exec.
void become_nobody(bool bpf_caps)
{
    ::prctl(PR_SET_KEEPCAPS, 1);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0)
        ::_exit(90);
    if (!bpf_caps)
        return;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    const unsigned bits = (1U << (kCapPerfmon - 32)) | (1U << (kCapBpf - 32));
    data[1].effective = data[1].permitted = data[1].inheritable = bits;
    if (::syscall(SYS_capset, &hdr, data) != 0 ||
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kCapBpf, 0, 0) != 0 ||
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kCapPerfmon, 0, 0) != 0)
        ::_exit(91);
}

} // namespace

TEST_CASE("Without CAP_SYS_ADMIN, listing works and enabling says what to grant",
          "[probes][bpf][privileges]")
{
    char dir[] = "/tmp/pctx-probes-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    ::chmod(dir, 0755);
    const std::string target = copy_for_nobody(testsupport::target("sdt_probes"), dir);
    const std::string cli = copy_for_nobody(testsupport::cli(), dir);

    // The target runs as nobody too, so nobody may read its maps.
    probetest::PreparedChild child(target, [] { become_nobody(false); });
    const pid_t tpid = child.pid();
    REQUIRE(child.read_line() == "ready");

    auto run = [&](const std::vector<std::string>& args) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            become_nobody(true);
            // A kernel that let this user trace would leave it running:
            // SIGALRM (kept across exec) ends it, and the test fails.
            ::alarm(60);
            std::vector<char*> argv = {const_cast<char*>(cli.c_str())};
            for (const auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(93);
        }
        ::close(out[1]);
        std::string text;
        char buf[4096];
        for (ssize_t n; (n = ::read(out[0], buf, sizeof(buf))) > 0;)
            text.append(buf, static_cast<std::size_t>(n));
        ::close(out[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
    };
    const auto [list_status, list_out] = run({"probe", "list", "-p", std::to_string(tpid)});
    INFO(list_out);
    CHECK(list_status == 0);
    CHECK(list_out.find("pctxtest:twelve") != std::string::npos);
    const auto [trace_status, trace_out] =
        run({"probe", "trace", "-p", std::to_string(tpid), "pctxtest:*"});
    INFO(trace_out);
    CHECK(trace_status == 1);
    CHECK(trace_out.find("CAP_SYS_ADMIN") != std::string::npos);
    CHECK(trace_out.find("CAP_BPF and CAP_PERFMON are not enough") != std::string::npos);

    CHECK(child.command("s") == "sem 0");
    // The refused tracer loaded its program as nobody: none of those is left.
    CHECK(probetest::usdt_programs_of_uid_gone(65534));
    CHECK(child.end() == 0);
    ::unlink(target.c_str());
    ::unlink(cli.c_str());
    ::rmdir(dir);
}

TEST_CASE("probe trace follows a library the target dlopens later", "[probes][bpf]")
{
    SdtTarget target;
    Cli cli({"probe", "trace", "--format", "json", "-p", std::to_string(target.pid()), "pctx*:*"});
    REQUIRE(cli.wait_stderr("tracing 6 probes"));
    REQUIRE(target.command("o") == "opened");
    const bool followed =
        cli.wait_stderr("tracing pctxlib:libfire in " + testsupport::target("libsdt_lib.so"));
    INFO(cli.err());
    REQUIRE(followed);
    REQUIRE(target.command("l 3") == "lfired");
    CHECK(target.end() == 0);
    REQUIRE(cli.finish() == 0);
    int k = 0;
    for (const auto& j : clitest::json_lines(cli.out()))
        if (j["name"] == "libfire") {
            ++k;
            CHECK(j["args"][0].get<std::int64_t>() == k);
            CHECK(j["args"][1].get<std::int64_t>() == -k);
        }
    CHECK(k == 3);
}

TEST_CASE("run --probe: the command's probe hits in the event stream, with their arguments",
          "[probes][bpf]")
{
    clitest::Tracer t({"run", "-T", "0", "--format", "json", "--probe", "pctxtest:one", "--probe",
                       "pctxtest:six", "--", testsupport::target("sdt_probes")});
    // Its exec row comes once the probes of the new image are enabled.
    for (auto line = t.read_line(); line; line = t.read_line())
        if (line->find("\"event\":\"exec\"") != std::string::npos)
            break;
    t.send("f 2\n");
    for (auto line = t.read_line(); line && *line != "fired"; line = t.read_line()) {
    }
    t.close_stdin();
    const auto r = t.finish();
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::map<std::string, int> hits;
    std::uint64_t last = 0;
    for (const auto& j : clitest::json_lines(r.out)) {
        CHECK(j["time_ns"].get<std::uint64_t>() >= last); // one ordered stream
        last = j["time_ns"].get<std::uint64_t>();
        if (j["event"] != "probe")
            continue;
        CHECK(j["provider"] == "pctxtest");
        const std::string name = j["name"];
        const int k = ++hits[name];
        if (name == "six") {
            CHECK(j["args"][0].get<std::int64_t>() == -k);
            CHECK(j["args"][5].get<std::uint64_t>() == 18000000000000000000ULL + k);
        }
    }
    CHECK(hits == std::map<std::string, int>{{"one", 2}, {"six", 2}});
    const auto bad = clitest::run({"run", "--probe", "nocolon", "--", "true"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("provider:name") != std::string::npos);
}

TEST_CASE("run --probe: a library's probes after its dlopen", "[probes][bpf]")
{
    clitest::Tracer t({"run", "-T", "0", "--format", "json", "--probe", "pctxlib:*", "--",
                       testsupport::target("sdt_probes")});
    auto read_until = [&](const std::string& what) {
        for (auto line = t.read_line(); line; line = t.read_line())
            if (line->find(what) != std::string::npos)
                return true;
        return false;
    };
    REQUIRE(read_until("\"event\":\"exec\""));
    t.send("o\n");
    REQUIRE(read_until("opened"));
    // The maps are compared every 200 ms: fire until the first hit shows
    // (10 s at most: a failure, not a timing).
    bool hit = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!hit && std::chrono::steady_clock::now() < deadline) {
        t.send("l 1\n");
        for (auto line = t.read_line(); line; line = t.read_line()) {
            if (line->find("\"event\":\"probe\"") != std::string::npos)
                hit = true;
            if (*line == "lfired")
                break;
        }
    }
    t.close_stdin();
    const auto r = t.finish();
    INFO(r.out << r.err);
    CHECK(hit);
    CHECK(r.status == 0);
}
