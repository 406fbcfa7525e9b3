#include "loader/bpf_errors.hpp"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace pctx::detail {
namespace {

bool has_capability(int cap)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &hdr, data) != 0)
        return false;
    const auto idx = static_cast<unsigned>(cap) / 32;
    const auto bit = 1U << (static_cast<unsigned>(cap) % 32);
    return (data[idx].effective & bit) != 0;
}

// Docker's default seccomp profile blocks bpf() with EPERM: worth naming,
// since it otherwise looks like a missing capability.
bool under_seccomp_filter()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Seccomp:", 0) == 0)
            return line.find('2') != std::string::npos;
    return false;
}

std::string missing_capabilities()
{
#ifndef CAP_PERFMON
    constexpr int CAP_PERFMON = 38;
#endif
#ifndef CAP_BPF
    constexpr int CAP_BPF = 39;
#endif
    if (has_capability(CAP_SYS_ADMIN))
        return {};
    std::string missing;
    if (!has_capability(CAP_BPF))
        missing = "CAP_BPF";
    if (!has_capability(CAP_PERFMON))
        missing += missing.empty() ? "CAP_PERFMON" : " and CAP_PERFMON";
    return missing;
}

// The first kernel feature pctx-bpf needs that this kernel refuses, found by
// trying each (as libbpf-tools do), never by comparing version numbers.
std::string missing_kernel_feature()
{
    if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 0)
        return "BPF ring buffer (Linux 5.8)";
    if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, nullptr) == 0)
        return "BTF-typed tracepoints (Linux 5.5)";
    return {};
}

} // namespace

std::string check_btf(const std::string& btf_path)
{
    struct stat st {};
    if (::stat(btf_path.c_str(), &st) == 0)
        return {};
    if (btf_path == "/sys/kernel/btf/vmlinux")
        return "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): pctx-bpf "
               "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian, Ubuntu, Fedora "
               "and RHEL kernels from 5.5 on have it), or a BTF file for this kernel named "
               "in PCTX_BTF_PATH";
    return "no BTF file at " + btf_path + " (named by PCTX_BTF_PATH): " + std::strerror(errno) +
           "; point PCTX_BTF_PATH at this kernel's BTF, or unset it";
}

std::string explain_bpf_failure(int err, const std::string& stage)
{
    const int e = err < 0 ? -err : err;
    std::string msg = "cannot " + stage + " BPF programs: " + std::strerror(e);
    if (e == EPERM || e == EACCES) {
        const std::string missing = missing_capabilities();
        if (!missing.empty())
            msg += " (this process lacks " + missing +
                   "; run as root, or grant CAP_BPF and CAP_PERFMON, e.g. with "
                   "setcap cap_bpf,cap_perfmon+ep)";
        else if (under_seccomp_filter())
            msg += " (a seccomp filter refuses bpf(): Docker's default profile does; run "
                   "the container with a profile that allows bpf and perf_event_open)";
    } else if (e == ENOENT || e == EINVAL || e == ESRCH) {
        const std::string feature = missing_kernel_feature();
        if (!feature.empty())
            msg += " (this kernel has no " + feature +
                   "; pctx-bpf needs Linux 5.8 or newer, see the README's kernel table)";
        else
            msg += " (this kernel refused a program or map; run with -v for libbpf's "
                   "account of it)";
    }
    return msg;
}

} // namespace pctx::detail
