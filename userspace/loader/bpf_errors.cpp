#include "loader/bpf_errors.hpp"

#include "checks/capabilities.hpp"
#include "checks/feature_probes.hpp"
#include "checks/seccomp_probe.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pctx::detail {
namespace {

// The first kernel feature pctx-bpf needs that this kernel refuses, found by
// trying each (as libbpf-tools do), never by comparing version numbers.
std::string missing_kernel_feature()
{
    if (probe_ring_buffer() == 0)
        return "BPF ring buffer (Linux 5.8)";
    if (probe_tp_btf() == 0)
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
        const std::string missing = missing_bpf_capabilities();
        if (!missing.empty())
            msg += " (this process lacks " + missing +
                   "; run as root, or grant CAP_BPF and CAP_PERFMON, e.g. with "
                   "setcap cap_bpf,cap_perfmon+ep)";
        else if (seccomp_mode() == 2)
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
