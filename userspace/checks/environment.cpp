// pctx::check_environment: each check asks the kernel (a capability, a
// sysctl, a feature probe, an actual open) and says what to do when it fails.
#include "pctx/checks.hpp"

#include "checks/capabilities.hpp"
#include "checks/feature_probes.hpp"
#include "checks/per_cpu_open.hpp"
#include "checks/seccomp_probe.hpp"
#include "counters/event_table.hpp"
#include "loader/bpf_errors.hpp"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace pctx {
namespace {

constexpr const char* kCapFix =
    "grant CAP_BPF and CAP_PERFMON: docker/podman run --cap-add BPF --cap-add PERFMON; "
    "Kubernetes securityContext.capabilities.add: [BPF, PERFMON]; for the binary, "
    "setcap cap_bpf,cap_perfmon+ep pctx-bpf; or run as root";
constexpr const char* kParanoidFix =
    "sysctl kernel.perf_event_paranoid=2 (on the host: containers share it), or run with "
    "CAP_SYS_ADMIN";
constexpr const char* kSeccompFix =
    "run the container with a seccomp profile that allows bpf and perf_event_open: "
    "--security-opt seccomp=PROFILE.json (the runtime's default plus those two), or "
    "--security-opt seccomp=unconfined; in Kubernetes, securityContext.seccompProfile "
    "(type Localhost)";

Check make(const char* name, bool required)
{
    Check c;
    c.name = name;
    c.required = required;
    return c;
}

Check fail(Check c, std::string detail, std::string fix)
{
    c.status = c.required ? CheckStatus::Fail : CheckStatus::Warn;
    c.detail = std::move(detail);
    c.fix = std::move(fix);
    return c;
}

Check ok(Check c, std::string detail)
{
    c.status = CheckStatus::Ok;
    c.detail = std::move(detail);
    return c;
}

int read_sysctl(const char* path, int fallback)
{
    std::ifstream in(path);
    int value = fallback;
    in >> value;
    return value;
}

Check kernel_release()
{
    utsname u{};
    ::uname(&u);
    return ok(make("kernel", false), std::string(u.release));
}

Check btf()
{
    Check c = make("BTF", true);
    const char* env = std::getenv("PCTX_BTF_PATH");
    const std::string path = env && *env ? env : "/sys/kernel/btf/vmlinux";
    const std::string problem = detail::check_btf(path);
    if (problem.empty())
        return ok(c, path);
    // check_btf's message is "what: fix".
    const auto colon = problem.find(": ");
    return fail(c, problem.substr(0, colon),
                colon == std::string::npos ? std::string() : problem.substr(colon + 2));
}

Check procfs()
{
    Check c = make("/proc", true);
    struct stat st {};
    if (::stat("/proc/self/ns/pid", &st) == 0)
        return ok(c, "mounted (pid namespace inode " + std::to_string(st.st_ino) + ")");
    return fail(c, "/proc/self/ns/pid cannot be read", "mount /proc (proc filesystem)");
}

Check capability(const char* name, int cap, bool required, const char* fix)
{
    Check c = make(name, required);
    if (detail::has_effective_capability(cap))
        return ok(c, "effective");
    if (cap != CAP_SYS_ADMIN && detail::has_effective_capability(CAP_SYS_ADMIN))
        return ok(c, "covered by CAP_SYS_ADMIN");
    return fail(c, std::string("this process lacks ") + name, fix);
}

Check unprivileged_bpf()
{
    Check c = make("kernel.unprivileged_bpf_disabled", true);
    const int value = read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled", 0);
    const std::string v = std::to_string(value);
    if (value == 0)
        return ok(c, v);
    if (detail::has_effective_capability(detail::kCapBpf) ||
        detail::has_effective_capability(CAP_SYS_ADMIN))
        return ok(c, v + " (binds only processes without CAP_BPF)");
    return fail(c, v + ": bpf() is refused to processes without CAP_BPF",
                std::string(kCapFix) +
                    " (setting the sysctl to 0 is not enough: tracing programs need CAP_BPF)");
}

Check seccomp()
{
    Check c = make("seccomp", true);
    const int mode = detail::seccomp_mode();
    if (mode == 0)
        return ok(c, "no filter");
    const auto bpf = detail::seccomp_refuses_bpf();
    const auto perf = detail::seccomp_refuses_perf_event_open();
    std::string refused;
    if (bpf == detail::Refusal::Refused)
        refused = "bpf";
    if (perf == detail::Refusal::Refused)
        refused += refused.empty() ? "perf_event_open" : " and perf_event_open";
    if (!refused.empty())
        return fail(c,
                    "a seccomp filter refuses " + refused + " (Seccomp: " + std::to_string(mode) +
                        " in /proc/self/status)",
                    kSeccompFix);
    if (bpf == detail::Refusal::Unclear) {
        c.status = CheckStatus::Unknown;
        c.detail = "a seccomp filter is active; without CAP_BPF, whether it refuses bpf "
                   "cannot be told (perf_event_open is allowed)";
        c.fix = kSeccompFix;
        return c;
    }
    return ok(c, "a filter is active and allows bpf and perf_event_open");
}

// libbpf's probes answer 1 (there), 0 (not there) or a negative errno.
Check probed(const char* name, int answer, const char* missing)
{
    Check c = make(name, true);
    if (answer > 0)
        return ok(c, "supported");
    if (answer == 0)
        return fail(c, std::string("this kernel has no ") + missing,
                    "pctx-bpf needs Linux 5.8 or newer (see the README's kernel table)");
    c.status = CheckStatus::Unknown;
    if (answer == -ENOENT) {
        c.detail = "cannot probe without the kernel's BTF";
        c.fix = "see the BTF check";
        return c;
    }
    c.detail = std::string("cannot probe: bpf() said ") + std::strerror(-answer);
    c.fix = "see the capability and seccomp checks";
    return c;
}

perf_event_attr counter_attr(const char* name)
{
    return detail::parse_counter_spec(name).front().attr;
}

Check software_counters(bool required, int err)
{
    Check c = make("software counters", required);
    if (err == 0)
        return ok(c, "cpu-clock opens on every CPU");
    detail::CounterSpec spec = detail::parse_counter_spec("cpu-clock").front();
    std::string fix = kCapFix;
    if ((err == EACCES || err == EPERM) &&
        detail::seccomp_refuses_perf_event_open() == detail::Refusal::Refused)
        fix = kSeccompFix;
    else if ((err == EACCES || err == EPERM) &&
             read_sysctl("/proc/sys/kernel/perf_event_paranoid", 2) > 2)
        fix = kParanoidFix;
    return fail(c, detail::explain_open_failure(spec, err), fix);
}

Check perf_paranoid(bool counters, int counters_err)
{
    Check c = make("kernel.perf_event_paranoid", counters);
    const int value = read_sysctl("/proc/sys/kernel/perf_event_paranoid", 2);
    const std::string v = std::to_string(value);
    if (detail::has_effective_capability(CAP_SYS_ADMIN))
        return ok(c, v + " (CAP_SYS_ADMIN overrides it)");
    if (value <= 2)
        return ok(c, v + ": CAP_PERFMON is enough");
    if (counters_err == EACCES || counters_err == EPERM)
        return fail(c,
                    v + ": this kernel keeps perf events to CAP_SYS_ADMIN (Debian's do above "
                        "2): counters need more than CAP_PERFMON",
                    kParanoidFix);
    return fail(make("kernel.perf_event_paranoid", false),
                v + ": some kernels (Debian's) keep perf events to CAP_SYS_ADMIN above 2; "
                    "this one let this process count",
                kParanoidFix);
}

Check pmu()
{
    Check c = make("PMU", false);
    std::string open;
    std::string first_reason;
    for (const auto& e : detail::known_events()) {
        if (e.kind != "hardware")
            continue;
        const detail::CounterSpec spec = detail::parse_counter_spec(e.name).front();
        const int err = detail::try_open_per_cpu(spec.attr);
        if (err == 0)
            open += (open.empty() ? "" : ", ") + e.name;
        else if (first_reason.empty())
            first_reason = detail::open_failure_reason(spec, err);
    }
    if (!open.empty())
        return ok(c, "hardware events that open: " + open);
    return fail(c, "no hardware event opens: " + first_reason,
                "only software counters (cpu-clock, task-clock, page-faults, ...) can be "
                "counted here; on a VM, enable its virtual PMU");
}

Check cgroup2()
{
    Check c = make("cgroup v2", false);
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        const auto sep = line.find(" - ");
        if (sep == std::string::npos || line.compare(sep + 3, 8, "cgroup2 ") != 0)
            continue;
        std::istringstream fields(line.substr(0, sep));
        std::string skip, mount_point;
        fields >> skip >> skip >> skip >> skip >> mount_point;
        return ok(c, "mounted at " + mount_point);
    }
    return fail(c, "no cgroup2 filesystem is mounted",
                "mount -t cgroup2 none /sys/fs/cgroup (needed only to scope by cgroup)");
}

} // namespace

const char* status_name(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Ok:
        return "ok";
    case CheckStatus::Fail:
        return "FAIL";
    case CheckStatus::Warn:
        return "warn";
    case CheckStatus::Unknown:
        return "unknown";
    }
    return "unknown";
}

std::vector<Check> check_environment(const CheckOptions& options)
{
    std::vector<Check> checks;
    checks.push_back(kernel_release());
    checks.push_back(btf());
    checks.push_back(procfs());
    checks.push_back(capability("CAP_BPF", detail::kCapBpf, true, kCapFix));
    checks.push_back(capability("CAP_PERFMON", detail::kCapPerfmon, true, kCapFix));
    checks.push_back(capability("CAP_SYS_ADMIN", CAP_SYS_ADMIN, options.probes,
                                "needed only for USDT probes (uprobes): run as root, or "
                                "--cap-add SYS_ADMIN"));
    checks.push_back(unprivileged_bpf());
    checks.push_back(seccomp());
    checks.push_back(
        probed("ring buffer", detail::probe_ring_buffer(), "BPF ring buffer (Linux 5.8)"));
    checks.push_back(probed("tp_btf", detail::probe_tp_btf(), "BTF-typed tracepoints (Linux 5.5)"));
    if (options.counters) {
        const int err = detail::try_open_per_cpu(counter_attr("cpu-clock"));
        checks.push_back(perf_paranoid(true, err));
        checks.push_back(software_counters(true, err));
    }
    if (options.pmu)
        checks.push_back(pmu());
    checks.push_back(cgroup2());
    return checks;
}

bool environment_ready(const std::vector<Check>& checks)
{
    for (const auto& c : checks)
        if (c.required && c.status == CheckStatus::Fail)
            return false;
    return true;
}

} // namespace pctx
