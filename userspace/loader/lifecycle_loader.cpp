#include "loader/lifecycle_loader.hpp"

#include "lifecycle.skel.h"
#include "counters/perf_events.hpp"
#include "loader/bpf_errors.hpp"
#include "loader/kernel_config.hpp"
#include "loader/ring_size.hpp"
#include "procfs/pid_namespace.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    // libbpf speaks only while loading and attaching: verbose for that long,
    // failures included.
    struct Verbose {
        bool on;
        explicit Verbose(bool v) : on(v)
        {
            if (on)
                ++g_verbose_sessions;
        }
        ~Verbose()
        {
            if (on)
                --g_verbose_sessions;
        }
        Verbose(const Verbose&) = delete;
        Verbose& operator=(const Verbose&) = delete;
    } verbose(config.verbose);

    const std::string btf = btf_path();
    if (std::string problem = check_btf(btf); !problem.empty())
        throw std::runtime_error(problem);

    struct stat ns {};
    if (config.pidns != 0 && ::stat(pid_namespace_path(config.pidns).c_str(), &ns) != 0)
        throw std::runtime_error("cannot read the pid namespace of pid " +
                                 std::to_string(config.pidns) + ": " + std::strerror(errno));
    if (config.pidns == 0 && ::stat("/proc/self/ns/pid", &ns) != 0)
        throw std::runtime_error("cannot read this process's pid namespace "
                                 "(/proc/self/ns/pid): is /proc mounted?");

    skel_ = open_configured(config, btf, ns);
    if (int err = lifecycle_bpf::load(skel_.get()); err != 0)
        throw std::runtime_error(explain_bpf_failure(err, "load"));
    if (config.counters) {
        const PerfEventSet& set = *config.counters;
        for (std::size_t k = 0; k < set.size(); ++k)
            for (int cpu = 0; cpu < set.possible_cpus(); ++cpu) {
                const int fd = set.fd(k, cpu);
                const auto key =
                    static_cast<__u32>(k * static_cast<std::size_t>(set.possible_cpus()) +
                                       static_cast<std::size_t>(cpu));
                if (fd >= 0 && bpf_map__update_elem(skel_->maps.counters, &key, sizeof(key), &fd,
                                                    sizeof(fd), BPF_ANY) != 0)
                    throw std::runtime_error(explain_bpf_failure(-errno, "set up the counters of"));
            }
        counting_ = true;
    }
    if (int attach_err = lifecycle_bpf::attach(skel_.get()); attach_err != 0)
        throw std::runtime_error(explain_bpf_failure(attach_err, "attach"));

    ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.records), &LifecycleLoader::on_record,
                                 this, nullptr));
    if (!ring_)
        throw std::runtime_error(explain_bpf_failure(-errno, "set up the ring buffer of"));
    ncpus_ = libbpf_num_possible_cpus();
    if (ncpus_ < 1)
        ncpus_ = 1;
}

SkeletonPtr<lifecycle_bpf> LifecycleLoader::open_configured(const LoaderConfig& config,
                                                            const std::string& btf,
                                                            const struct stat& ns)
{
    LIBBPF_OPTS(bpf_object_open_opts, open_opts);
    if (btf != "/sys/kernel/btf/vmlinux")
        open_opts.btf_custom_path = btf.c_str();
    SkeletonPtr<lifecycle_bpf> skel(lifecycle_bpf::open(&open_opts));
    if (!skel)
        throw std::runtime_error(explain_bpf_failure(-errno, "open"));

    skel->rodata->ns_init = ns.st_ino == kInitPidNsIno;
    skel->rodata->ns_dev = ns.st_dev;
    skel->rodata->ns_ino = ns.st_ino;

    skel->rodata->scope_kind = config.scope_kind;
    skel->rodata->scope_cgroup_id = config.scope_cgroup_id;
    skel->rodata->tracer_tgid = static_cast<__u32>(::getpid());
    // Moves between cgroups matter to a cgroup scope only.
    if (config.scope_kind != PCTX_SCOPE_CGROUP)
        bpf_program__set_autoload(skel->progs.pctx_cgroup_attach, false);

    bpf_map__set_max_entries(skel->maps.records,
                             static_cast<__u32>(ring_buffer_size(config.ring_buffer_bytes)));
    bpf_map__set_max_entries(skel->maps.tracked, config.max_processes);
    if (config.counters) {
        const auto ncpus = static_cast<__u32>(config.counters->possible_cpus());
        skel->rodata->ncounters = static_cast<__u32>(config.counters->size());
        skel->rodata->nr_cpus = ncpus;
        __u32 time_mask = 0;
        for (std::size_t k = 0; k < config.counters->size(); ++k)
            if (config.counters->specs()[k].cpu_time)
                time_mask |= 1U << k;
        skel->rodata->time_counters = time_mask;
        skel->rodata->tick_ns = 1000000000ULL / kernel_hz();
        bpf_map__set_max_entries(skel->maps.counters,
                                 static_cast<__u32>(config.counters->size()) * ncpus);
        bpf_map__set_max_entries(skel->maps.threads, config.max_threads);
        bpf_map__set_value_size(skel->maps.threads,
                                static_cast<__u32>(PCTX_THREAD_SIZE(config.counters->size())));
    } else {
        // Without counters, sched_switch stays untouched.
        bpf_program__set_autoload(skel->progs.pctx_switch, false);
        bpf_program__set_autoload(skel->progs.pctx_seed, false);
        bpf_program__set_autoload(skel->progs.pctx_sample, false);
        bpf_map__set_max_entries(skel->maps.threads, 1);
    }
    return skel;
}

LifecycleLoader::~LifecycleLoader() = default;

int LifecycleLoader::track(pid_t pid, std::uint32_t flags)
{
    const auto key = static_cast<__u32>(pid);
    pctx_tracked value{flags, 0, 0}; // BPF notes the start time on first sight
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

void LifecycleLoader::forget_dead(pid_t pid)
{
    const auto key = static_cast<__u32>(pid);
    pctx_tracked value{};
    // Not atomic: a fork that reuses the pid between the two calls would
    // lose its entry. A pid is reused only after a full cycle of the pid
    // space, so that takes a machine forking flat out during microseconds.
    if (bpf_map__lookup_elem(skel_->maps.tracked, &key, sizeof(key), &value, sizeof(value), 0) ==
            0 &&
        (value.flags & PCTX_TRACK_DEAD) != 0)
        bpf_map__delete_elem(skel_->maps.tracked, &key, sizeof(key), 0);
}

int LifecycleLoader::seed_threads(pid_t pid)
{
    if (!counting_)
        return 0;
    skel_->bss->seed_tgid = pid;
    // Each read of a new iterator walks every task once.
    UniqueFd iter(bpf_iter_create(bpf_link__fd(skel_->links.pctx_seed)));
    if (!iter)
        return errno;
    char buf[64];
    ssize_t n = 0;
    while ((n = ::read(iter.get(), buf, sizeof(buf))) > 0) {
    }
    return n < 0 ? errno : 0;
}

int LifecycleLoader::read_thread(std::uint32_t kernel_tid, pctx_thread& out) const
{
    // The map's values hold the requested counters only; the rest stays 0.
    const std::size_t size = bpf_map__value_size(skel_->maps.threads);
    // A seqlock read from outside: a lookup is the kernel's memcpy, whose
    // load order is its own (without FSRM, x86 copies backwards when the
    // addresses suggest it, so seq can be the last field read). The copy in
    // the middle of three lookups that read the same even seq is whole:
    // seq, monotonic, held still from somewhere in the first to somewhere
    // in the third, and BPF writes fields only while seq is odd.
    std::array<pctx_thread, 3> copies{};
    for (int n = 0; n < 1000; ++n) {
        pctx_thread& c = copies.at(n % 3);
        if (bpf_map__lookup_elem(skel_->maps.threads, &kernel_tid, sizeof(kernel_tid), &c, size,
                                 0) != 0)
            return errno;
        const pctx_thread& first = copies.at((n + 1) % 3);
        if (n >= 2 && (c.seq & 1U) == 0 && first.seq == c.seq) {
            out = copies.at((n + 2) % 3);
            return 0;
        }
    }
    return EAGAIN;
}

int LifecycleLoader::read_threads(std::vector<ThreadEntry>& out)
{
    out.clear();
    if (!counting_)
        return 0;
    UniqueFd iter(bpf_iter_create(bpf_link__fd(skel_->links.pctx_sample)));
    if (!iter)
        return errno;
    // Each record: a pctx_sample header, then the entry's requested part.
    const std::size_t size = bpf_map__value_size(skel_->maps.threads);
    const std::size_t record = sizeof(pctx_sample) + size;
    std::vector<unsigned char>& buf = sample_buf_;
    std::size_t have = 0;
    for (;;) {
        if (buf.size() < have + 32768)
            buf.resize(have + 32768);
        const ssize_t n = ::read(iter.get(), buf.data() + have, buf.size() - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            break;
        have += static_cast<std::size_t>(n);
    }
    for (std::size_t off = 0; off + record <= have; off += record) {
        pctx_sample hdr{};
        std::memcpy(&hdr, buf.data() + off, sizeof(hdr));
        ThreadEntry e;
        e.kernel_tid = hdr.ktid;
        e.rt_now = hdr.rt_now;
        std::memcpy(&e.state, buf.data() + off + sizeof(hdr), size);
        // Updated throughout the kernel's tries: read it whole from here.
        if (hdr.pad != 0) {
            if (const int err = read_thread(e.kernel_tid, e.state); err == ENOENT)
                continue; // gone meanwhile
            else if (err != 0)
                return err;
        }
        out.push_back(e);
    }
    return 0;
}

int LifecycleLoader::take_threads(pid_t pid, std::vector<ThreadEntry>& out)
{
    out.clear();
    std::vector<ThreadEntry> all;
    if (const int err = read_threads(all); err != 0)
        return err;
    for (const auto& e : all) {
        if (e.state.pid != pid)
            continue;
        out.push_back(e);
        bpf_map__delete_elem(skel_->maps.threads, &e.kernel_tid, sizeof(e.kernel_tid), 0);
    }
    return 0;
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

int LifecycleLoader::stats(pctx_stats& out) const
{
    std::vector<pctx_stats> per_cpu(static_cast<std::size_t>(ncpus_));
    const __u32 zero = 0;
    if (bpf_map__lookup_elem(skel_->maps.stats, &zero, sizeof(zero), per_cpu.data(),
                             per_cpu.size() * sizeof(pctx_stats), 0) != 0)
        return errno;
    pctx_stats total{};
    for (const auto& s : per_cpu) {
        for (int k = 0; k < PCTX_LOSS_KINDS; ++k)
            total.lost[k] += s.lost[k];
        total.unseen_switches += s.unseen_switches;
    }
    out = total;
    return 0;
}

} // namespace pctx::detail
