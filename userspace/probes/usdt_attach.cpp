// Enabling a probe is one bpf_program__attach_usdt call: libbpf 1.1 reads
// the notes again, registers the argument specs, uses the BPF cookie (or, on
// kernels before 5.15, an IP-to-spec map, which for shared objects matches
// the path against /proc/PID/maps) and hands the semaphore to the kernel as
// the uprobe's ref_ctr_offset, so pctx-bpf never writes target memory and
// two handles on one target count the semaphore up twice.
#include "probes/usdt_attach.hpp"

#include "loader/bpf_errors.hpp"
// bpftool declares usdt.bpf.h's kconfig extern as C's _Bool, which C++ lacks.
#define _Bool bool // NOLINT(bugprone-reserved-identifier)
#include "usdt.skel.h"
#undef _Bool

#include <pctx/probes.hpp>

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pctx::detail {

static_assert(sizeof(pctx_probe_hit) == 128, "the record BPF writes");

namespace {

bool has_sys_admin()
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    return ::syscall(SYS_capget, &hdr, data) == 0 &&
           (data[0].effective & (1U << CAP_SYS_ADMIN)) != 0;
}

// BPF cookies (5.15): without them libbpf 1.1 maps a site's address back to
// its spec through the target's /proc/PID/maps, matching the path it was
// given against the paths listed there.
bool has_bpf_cookies()
{
    static const bool yes =
        libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, nullptr) > 0;
    return yes;
}

} // namespace

void LinkDeleter::operator()(bpf_link* link) const noexcept
{
    bpf_link__destroy(link);
}
void UsdtSkelDeleter::operator()(usdt_bpf* skel) const noexcept
{
    usdt_bpf::destroy(skel);
}

UsdtAttacher::~UsdtAttacher()
{
    // Links before the program and the ring buffer they feed.
    links_.clear();
}

void UsdtAttacher::load()
{
    if (skel_)
        return;
    usdt_bpf* raw = usdt_bpf::open_and_load();
    if (raw == nullptr) {
        const int err = errno;
        throw ProbeError(err == EPERM || err == EACCES ? ProbeErrc::Permission
                                                       : ProbeErrc::Internal,
                         "enable", explain_bpf_failure(-err, "load"));
    }
    skel_.reset(raw);
    sink_ = std::make_unique<Sink>();
    ring_.reset(
        ring_buffer__new(bpf_map__fd(skel_->maps.hits), &UsdtAttacher::on_sample, this, nullptr));
    if (!ring_) {
        const int err = errno;
        skel_.reset();
        throw ProbeError(ProbeErrc::Internal, "enable",
                         std::string("cannot set up the probe ring buffer: ") + std::strerror(err));
    }
}

void UsdtAttacher::attach(unsigned id, pid_t pid, const std::string& path,
                          const std::string& provider, const std::string& name, Sink sink)
{
    load();
    // Where libbpf 1.1 falls short: before 5.15 a shared object or PIE named
    // by a path the target's maps do not show (another mount namespace's
    // /proc/PID/root/..., an indirect caller's /proc/self/fd/N) cannot be
    // attached; its own usdt.c would need an inode match. Refused here with
    // the reason rather than libbpf's ESRCH (an executable linked at a fixed
    // address would work, but is refused as well).
    if (path.rfind("/proc/", 0) == 0 && !has_bpf_cookies())
        throw ProbeError(ProbeErrc::Internal, "enable",
                         "cannot enable " + provider + ":" + name + " through " + path +
                             ": this kernel has no BPF cookies (Linux 5.15), and without them "
                             "libbpf 1.1 attaches only by the path /proc/" +
                             std::to_string(pid) +
                             "/maps shows, which must name the same file here");
    *sink_ = std::move(sink);
    bpf_usdt_opts opts{};
    opts.sz = sizeof(opts);
    opts.usdt_cookie = id;
    bpf_link* link = bpf_program__attach_usdt(skel_->progs.on_probe, pid, path.c_str(),
                                              provider.c_str(), name.c_str(), &opts);
    if (link == nullptr) {
        const int err = errno;
        const std::string what = "cannot enable " + provider + ":" + name + " in process " +
                                 std::to_string(pid) + " (" + path + "): ";
        if ((err == EACCES || err == EPERM) && !has_sys_admin())
            throw ProbeError(ProbeErrc::Permission, "enable",
                             what + std::strerror(err) +
                                 ": the kernel attaches uprobes only for CAP_SYS_ADMIN "
                                 "(CAP_BPF and CAP_PERFMON are not enough); run as root or "
                                 "grant CAP_SYS_ADMIN (setcap cap_sys_admin+ep, or "
                                 "--cap-add SYS_ADMIN for a container). Listing works without it");
        if (err == ESRCH || err == ENOENT)
            throw ProbeError(ProbeErrc::BadPid, "enable",
                             what + std::strerror(err) + " (the process or object is gone)");
        throw ProbeError(ProbeErrc::Internal, "enable", what + std::strerror(err));
    }
    links_[id].reset(link);
}

void UsdtAttacher::detach(unsigned id)
{
    links_.erase(id);
}

int UsdtAttacher::on_sample(void* ctx, void* data, std::size_t size)
{
    if (size < sizeof(pctx_probe_hit))
        return 0;
    pctx_probe_hit hit;
    std::memcpy(&hit, data, sizeof(hit));
    auto* self = static_cast<UsdtAttacher*>(ctx);
    // No exception may unwind through libbpf's C frames: held until poll returns.
    try {
        if (*self->sink_)
            (*self->sink_)(hit);
    } catch (...) {
        self->pending_ = std::current_exception();
        return -ECANCELED;
    }
    return 0;
}

int UsdtAttacher::poll(int timeout_ms)
{
    if (!ring_)
        return 0;
    int n = ring_buffer__poll(ring_.get(), timeout_ms);
    // Hits below the wakeup batch (usdt.bpf.c) wake nobody: take them now.
    if (n == 0)
        n = ring_buffer__consume(ring_.get());
    if (pending_)
        std::rethrow_exception(std::exchange(pending_, nullptr));
    if (n < 0 && n != -EINTR)
        throw ProbeError(ProbeErrc::Internal, "poll",
                         std::string("reading probe hits failed: ") + std::strerror(-n));
    return n < 0 ? 0 : n;
}

int UsdtAttacher::fd() const
{
    return ring_ ? ring_buffer__epoll_fd(ring_.get()) : -1;
}

std::uint64_t UsdtAttacher::lost() const
{
    return skel_ ? __atomic_load_n(&skel_->bss->lost, __ATOMIC_RELAXED) : 0;
}

} // namespace pctx::detail
