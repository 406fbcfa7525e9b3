#include "support/as_nobody.hpp"

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace testsupport {

std::pair<int, std::string> run_as_nobody(const std::vector<std::string>& argv,
                                          const std::vector<int>& caps)
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
        for (int cap : caps) {
            const unsigned bit = 1U << (cap % 32);
            data[cap / 32].effective |= bit;
            data[cap / 32].permitted |= bit;
            data[cap / 32].inheritable |= bit;
        }
        if (::syscall(SYS_capset, &hdr, data) != 0)
            ::_exit(91);
        for (int cap : caps)
            if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
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

std::string cli_for_nobody()
{
    static const std::string path = [] {
        char dir[] = "/tmp/pctx-caps-XXXXXX";
        REQUIRE(::mkdtemp(dir) != nullptr);
        ::chmod(dir, 0755);
        std::string copy = std::string(dir) + "/pctx-bpf";
        std::ifstream in(cli(), std::ios::binary);
        std::ofstream out(copy, std::ios::binary);
        out << in.rdbuf();
        out.close();
        ::chmod(copy.c_str(), 0755);
        return copy;
    }();
    return path;
}

} // namespace testsupport
