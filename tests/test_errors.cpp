// Every refusal of pctx_create/pctx_capture: its message, through errfn, and
// nothing left behind (no BPF program, no descriptor, no child process).
#include "pctx/libpctx.h"
#include "pctx/pctx.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

using testsupport::Child;
using testsupport::target;

namespace {

std::string g_messages;

void collect(const char* fn, const char* fmt, va_list ap)
{
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    g_messages += std::string("pctx_") + fn + ": " + buf;
}

// Runs attempt, which must fail; returns what errfn got. Checks no leak.
std::string refusal(const std::function<pctx_t*()>& attempt)
{
    const auto fds = testsupport::open_fds();
    g_messages.clear();
    pctx_t* p = attempt();
    if (p)
        pctx_release(p);
    CHECK(p == nullptr);
    CHECK(testsupport::bpf_programs_held_by(::getpid()).empty());
    CHECK(testsupport::no_orphan_pctx_programs());
    CHECK(testsupport::open_fds() == fds);
    CHECK(testsupport::children_of_self().empty());
    return g_messages;
}

// Runs fn in a child process that has dropped to user nobody, with no
// capabilities; returns what fn returned, through a pipe.
std::string as_nobody(const std::function<std::string()>& fn)
{
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(3);
        const std::string out = fn();
        (void)!::write(pipefd[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof(buf))) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return out;
}

pid_t find_kernel_thread()
{
    for (pid_t pid = 2; pid < 200; ++pid) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        std::string rest = line.substr(line.rfind(')') + 2);
        unsigned long flags = 0;
        if (std::sscanf(rest.c_str(), "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
            (flags & 0x00200000))
            return pid;
    }
    return 0;
}

} // namespace

TEST_CASE("create: a program that does not exist", "[bpf][errors]")
{
    char* argv[] = {const_cast<char*>("no-such-program-pctx"), nullptr};
    const auto msg = refusal([&] { return pctx_create(argv[0], argv, nullptr, 0, collect); });
    CHECK(msg == "pctx_create: cannot find program 'no-such-program-pctx'\n");
}

TEST_CASE("create: a program that cannot be executed", "[bpf][errors]")
{
    char path[] = "/tmp/pctx-noexec-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    ::chmod(path, 0644);
    char* argv[] = {path, nullptr};
    const auto msg = refusal([&] { return pctx_create(path, argv, nullptr, 0, collect); });
    ::unlink(path);
    CHECK(msg == std::string("pctx_create: cannot execute program '") + path + "'\n");
}

TEST_CASE("run: a command whose exec fails leaves nothing attached once run() has thrown",
          "[bpf][errors]")
{
    // Executable, so creation accepts it; its interpreter is missing, so the
    // exec fails only when run() lets the command go.
    char path[] = "/tmp/pctx-badinterp-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    const std::string script = "#!/nonexistent/sh\n";
    REQUIRE(::write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size()));
    ::close(fd);
    ::chmod(path, 0755);
    {
        auto session = pctx::Session::spawn({path});
        REQUIRE_FALSE(testsupport::bpf_programs_held_by(::getpid()).empty());
        CHECK_THROWS_AS(session.run(), pctx::Error);
        // Released as run() threw, the session itself still in scope.
        CHECK(testsupport::bpf_programs_held_by(::getpid()).empty());
        CHECK(testsupport::children_of_self().empty());
        CHECK_THROWS_WITH(session.run(), Catch::Contains("released"));
    }
    ::unlink(path);
}

TEST_CASE("capture: a pid that does not exist", "[bpf][errors]")
{
    const auto msg = refusal([] { return pctx_capture(INT_MAX, nullptr, 0, collect); });
    CHECK(msg == "pctx_capture: pid 2147483647 doesn't exist\n");
}

TEST_CASE("capture: a zombie", "[bpf][errors]")
{
    const pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(0);
    siginfo_t info{};
    REQUIRE(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0);
    g_messages.clear();
    pctx_t* p = pctx_capture(pid, nullptr, 0, collect);
    CHECK(p == nullptr);
    CHECK(g_messages == "pctx_capture: pid " + std::to_string(pid) + " is a zombie\n");
    ::waitpid(pid, nullptr, 0);
}

TEST_CASE("capture: a kernel thread", "[bpf][errors]")
{
    const pid_t kthread = find_kernel_thread();
    REQUIRE(kthread > 0);
    const auto msg = refusal([&] { return pctx_capture(kthread, nullptr, 0, collect); });
    CHECK(msg == "pctx_capture: pid " + std::to_string(kthread) + " is a system process\n");
}

TEST_CASE("capture: ourselves", "[bpf][errors]")
{
    const auto msg = refusal([] { return pctx_capture(::getpid(), nullptr, 0, collect); });
    CHECK(msg == "pctx_capture: cannot capture self\n");
}

TEST_CASE("capture: another user's process without the right to trace it", "[bpf][errors]")
{
    Child proc({target("parked_threads"), "1"});
    REQUIRE(proc.read_line() == "ready");
    const pid_t pid = proc.pid();
    const auto msg = as_nobody([pid] {
        g_messages.clear();
        pctx_t* p = pctx_capture(pid, nullptr, 0, collect);
        if (p)
            pctx_release(p);
        return g_messages;
    });
    CHECK(msg == "pctx_capture: pid " + std::to_string(pid) + ": permission denied\n");
}

TEST_CASE("create: no permission to load BPF names the capabilities", "[bpf][errors]")
{
    const auto msg = as_nobody([] {
        g_messages.clear();
        char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
        pctx_t* p = pctx_create(argv[0], argv, nullptr, 0, collect);
        if (p)
            pctx_release(p);
        return g_messages;
    });
    CHECK_THAT(msg, Catch::StartsWith("pctx_create: cannot load BPF programs: this process "
                                      "lacks CAP_BPF and CAP_PERFMON"));
    CHECK_THAT(msg, Catch::Contains("setcap cap_bpf,cap_perfmon+ep"));
}

TEST_CASE("create: no BTF says so and what to do", "[bpf][errors]")
{
    ::setenv("PCTX_BTF_PATH", "/nonexistent/vmlinux.btf", 1);
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    const auto msg = refusal([&] { return pctx_create(argv[0], argv, nullptr, 0, collect); });
    ::unsetenv("PCTX_BTF_PATH");
    CHECK_THAT(msg, Catch::StartsWith("pctx_create: no BTF file at /nonexistent/vmlinux.btf"));
    CHECK_THAT(msg, Catch::Contains("PCTX_BTF_PATH"));
}

TEST_CASE("the default errfn writes libpctx's prefix to stderr", "[bpf][errors]")
{
    // Redirect stderr to a pipe for the one call.
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    const int saved = ::dup(2);
    ::dup2(pipefd[1], 2);
    pctx_t* p = pctx_capture(INT_MAX, nullptr, 0, nullptr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(pipefd[1]);
    char buf[256] = {};
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf) - 1);
    ::close(pipefd[0]);
    CHECK(p == nullptr);
    REQUIRE(n > 0);
    CHECK(std::string(buf) == "libpctx: pctx_capture: pid 2147483647 doesn't exist\n");
}

TEST_CASE("a kernel without BTF: the message says so and what to do", "[bpf][errors]")
{
    // /sys/kernel/btf hidden under an empty tmpfs, in a mount namespace of
    // its own: to pctx-bpf this is a kernel built without BTF.
    const std::string unshare =
        ::access("/usr/bin/unshare", X_OK) == 0 ? "/usr/bin/unshare" : "/bin/unshare";
    Child c({unshare, "-m", "/bin/sh", "-c",
             "mount -t tmpfs none /sys/kernel/btf && exec " + testsupport::cli() +
                 " run -q -- /bin/true 2>&1"});
    c.close_stdin();
    std::string out;
    for (std::string line; !(line = c.read_line()).empty();)
        out += line + "\n";
    const int status = c.wait();
    INFO(out);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK_THAT(out, Catch::StartsWith("pctx-bpf: this kernel has no BTF "
                                      "(/sys/kernel/btf/vmlinux is missing)"));
    CHECK_THAT(out, Catch::Contains("CONFIG_DEBUG_INFO_BTF=y"));
    CHECK_THAT(out, Catch::Contains("PCTX_BTF_PATH"));
}
