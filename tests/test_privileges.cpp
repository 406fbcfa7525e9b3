// What a container granted only CAP_BPF and CAP_PERFMON can do: trace a
// command of its own, counters included, as an unprivileged user.
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// Runs argv as user nobody holding exactly CAP_BPF and CAP_PERFMON (passed
// across exec as ambient capabilities); returns its exit status and output.
std::pair<int, std::string> run_with_bpf_caps(const std::vector<std::string>& argv)
{
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        ::prctl(PR_SET_KEEPCAPS, 1);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(90);
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        const unsigned bits = (1U << (kCapPerfmon - 32)) | (1U << (kCapBpf - 32));
        data[1].effective = data[1].permitted = data[1].inheritable = bits;
        if (::syscall(SYS_capset, &hdr, data) != 0 ||
            ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kCapBpf, 0, 0) != 0 ||
            ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kCapPerfmon, 0, 0) != 0)
            ::_exit(91);
        ::execv(args[0], args.data());
        ::_exit(92);
    }
    ::close(out[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof(buf))) > 0;)
        text.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// The CLI, copied where user nobody can run it: the build tree may sit
// under a directory only root can enter (mktemp -d makes them 0700).
std::string cli_for_nobody()
{
    static const std::string path = [] {
        char dir[] = "/tmp/pctx-caps-XXXXXX";
        REQUIRE(::mkdtemp(dir) != nullptr);
        ::chmod(dir, 0755);
        std::string copy = std::string(dir) + "/pctx-bpf";
        std::ifstream in(testsupport::cli(), std::ios::binary);
        std::ofstream out(copy, std::ios::binary);
        out << in.rdbuf();
        out.close();
        ::chmod(copy.c_str(), 0755);
        return copy;
    }();
    return path;
}

} // namespace

TEST_CASE("CAP_BPF and CAP_PERFMON alone trace a command", "[bpf][privileges]")
{
    const auto [status, out] =
        run_with_bpf_caps({cli_for_nobody(), "run", "-q", "-f", "-T", "0", "--format", "json", "--",
                           "/bin/sh", "-c", "/bin/true; exit 2"});
    INFO(out);
    CHECK(status == 2);
    CHECK(out.find("\"event\":\"fork\"") != std::string::npos);
    CHECK(out.find("\"args\":[\"/bin/true\"]") != std::string::npos);
}

TEST_CASE("CAP_BPF and CAP_PERFMON alone count, or say which sysctl stops them",
          "[bpf][privileges][counters]")
{
    int paranoid = 2;
    std::ifstream("/proc/sys/kernel/perf_event_paranoid") >> paranoid;
    const auto [status, out] =
        run_with_bpf_caps({cli_for_nobody(), "run", "-q", "-T", "0", "-c", "cpu-clock,page-faults",
                           "--format", "json", "--", "/bin/true"});
    INFO(out << "perf_event_paranoid " << paranoid);
    if (status == 0) {
        CHECK(out.find("\"page-faults\":") != std::string::npos);
        return;
    }
    // Debian's kernels at paranoid 3 keep perf events to CAP_SYS_ADMIN.
    REQUIRE(paranoid > 2);
    CHECK(status == 1);
    CHECK(out.find("kernel.perf_event_paranoid is " + std::to_string(paranoid)) !=
          std::string::npos);
    CHECK(out.find("sysctl kernel.perf_event_paranoid=2") != std::string::npos);
}
