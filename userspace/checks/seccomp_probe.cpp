#include "checks/seccomp_probe.hpp"

#include "checks/capabilities.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace pctx::detail {
namespace {

int read_sysctl(const char* path, int fallback)
{
    std::ifstream in(path);
    int value = fallback;
    in >> value;
    return value;
}

} // namespace

int seccomp_mode()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Seccomp:", 0) == 0)
            return std::stoi(line.substr(8));
    return 0;
}

Refusal seccomp_refuses_bpf()
{
    if (seccomp_mode() != 2)
        return Refusal::Allowed;
    constexpr long kNoSuchCommand = 0x7fff;
    if (::syscall(SYS_bpf, kNoSuchCommand, nullptr, 0) == 0 || errno != EPERM)
        return Refusal::Allowed;
    const bool kernel_may_refuse =
        read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled", 0) != 0 &&
        !has_effective_capability(kCapBpf) && !has_effective_capability(CAP_SYS_ADMIN);
    return kernel_may_refuse ? Refusal::Unclear : Refusal::Refused;
}

Refusal seccomp_refuses_perf_event_open()
{
    if (seccomp_mode() != 2)
        return Refusal::Allowed;
    // The kernel copies the attr first: EFAULT, whatever the privileges.
    const long fd = ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0);
    if (fd >= 0) {
        ::close(static_cast<int>(fd));
        return Refusal::Allowed;
    }
    return errno == EFAULT ? Refusal::Allowed : Refusal::Refused;
}

} // namespace pctx::detail
