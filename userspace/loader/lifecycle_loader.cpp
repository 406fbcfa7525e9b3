#include "loader/lifecycle_loader.hpp"

#include "lifecycle.skel.h"
#include "loader/bpf_errors.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace pctx::detail {
namespace {

// libbpf's printer is process-wide: quiet unless some session asked for -v.
std::atomic<int> g_verbose_sessions{0};

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG || g_verbose_sessions.load() == 0)
        return 0;
    return std::vfprintf(stderr, fmt, ap);
}

// PROC_PID_INIT_INO: the initial pid namespace's inode, fixed by the kernel.
constexpr std::uint64_t kInitPidNsIno = 0xEFFFFFFCU;

std::string btf_path()
{
    const char* env = std::getenv("PCTX_BTF_PATH");
    return env && *env ? env : "/sys/kernel/btf/vmlinux";
}

} // namespace

LifecycleLoader::LifecycleLoader(const LoaderConfig& config)
{
    static const bool print_set = [] {
        libbpf_set_print(libbpf_print);
        return true;
    }();
    (void)print_set;
    if (config.verbose)
        ++g_verbose_sessions;

    const std::string btf = btf_path();
    if (std::string problem = check_btf(btf); !problem.empty())
        throw std::runtime_error(problem);

    LIBBPF_OPTS(bpf_object_open_opts, open_opts);
    if (btf != "/sys/kernel/btf/vmlinux")
        open_opts.btf_custom_path = btf.c_str();
    skel_.reset(lifecycle_bpf::open(&open_opts));
    if (!skel_)
        throw std::runtime_error(explain_bpf_failure(-errno, "open"));

    struct stat ns {};
    if (::stat("/proc/self/ns/pid", &ns) != 0)
        throw std::runtime_error("cannot read this process's pid namespace "
                                 "(/proc/self/ns/pid): is /proc mounted?");
    skel_->rodata->ns_init = ns.st_ino == kInitPidNsIno;
    skel_->rodata->ns_dev = ns.st_dev;
    skel_->rodata->ns_ino = ns.st_ino;

    bpf_map__set_max_entries(skel_->maps.records, static_cast<__u32>(config.ring_buffer_bytes));
    bpf_map__set_max_entries(skel_->maps.tracked, config.max_processes);

    if (int err = lifecycle_bpf::load(skel_.get()); err != 0)
        throw std::runtime_error(explain_bpf_failure(err, "load"));
    if (int err = lifecycle_bpf::attach(skel_.get()); err != 0)
        throw std::runtime_error(explain_bpf_failure(err, "attach"));

    ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.records), &LifecycleLoader::on_record,
                                 this, nullptr));
    if (!ring_)
        throw std::runtime_error(explain_bpf_failure(-errno, "set up the ring buffer of"));
    ncpus_ = libbpf_num_possible_cpus();
    if (ncpus_ < 1)
        ncpus_ = 1;
    if (config.verbose)
        --g_verbose_sessions; // libbpf only speaks at load and attach
}

LifecycleLoader::~LifecycleLoader() = default;

int LifecycleLoader::track(pid_t pid, std::uint32_t flags)
{
    const auto key = static_cast<__u32>(pid);
    pctx_tracked value{flags, 0};
    if (bpf_map__update_elem(skel_->maps.tracked, &key, sizeof(key), &value, sizeof(value),
                             BPF_ANY) != 0)
        return errno;
    return 0;
}

void LifecycleLoader::untrack(pid_t pid)
{
    const auto key = static_cast<__u32>(pid);
    bpf_map__delete_elem(skel_->maps.tracked, &key, sizeof(key), 0);
}

int LifecycleLoader::on_record(void* ctx, void* data, std::size_t size)
{
    auto* self = static_cast<LifecycleLoader*>(ctx);
    if (size < sizeof(pctx_record))
        return 0; // never sent by our program; ignore rather than misread
    return (*self->current_fn_)(*static_cast<const pctx_record*>(data), size);
}

int LifecycleLoader::consume(const RecordFn& fn)
{
    current_fn_ = &fn;
    const int n = ring_buffer__consume(ring_.get());
    current_fn_ = nullptr;
    return n;
}

int LifecycleLoader::ring_fd() const
{
    return ring_buffer__epoll_fd(ring_.get());
}

pctx_stats LifecycleLoader::stats() const
{
    std::vector<pctx_stats> per_cpu(static_cast<std::size_t>(ncpus_));
    const __u32 zero = 0;
    pctx_stats total{};
    if (bpf_map__lookup_elem(skel_->maps.stats, &zero, sizeof(zero), per_cpu.data(),
                             per_cpu.size() * sizeof(pctx_stats), 0) != 0)
        return total;
    for (const auto& s : per_cpu) {
        total.lost_records += s.lost_records;
        total.track_failed += s.track_failed;
    }
    return total;
}

} // namespace pctx::detail
