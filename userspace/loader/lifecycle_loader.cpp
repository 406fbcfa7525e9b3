#include "loader/lifecycle_loader.hpp"

#include "lifecycle.skel.h"
#include "counters/perf_events.hpp"
#include "loader/bpf_errors.hpp"
#include "procfs/pid_namespace.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <unistd.h>

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

    bpf_map__set_max_entries(skel->maps.records, static_cast<__u32>(config.ring_buffer_bytes));
    bpf_map__set_max_entries(skel->maps.tracked, config.max_processes);
    if (config.counters) {
        const auto ncpus = static_cast<__u32>(config.counters->possible_cpus());
        skel->rodata->ncounters = static_cast<__u32>(config.counters->size());
        skel->rodata->nr_cpus = ncpus;
        __u32 time_mask = 0;
        for (std::size_t k = 0; k < config.counters->size(); ++k) {
            const perf_event_attr& a = config.counters->specs()[k].attr;
            if (a.type == PERF_TYPE_SOFTWARE &&
                (a.config == PERF_COUNT_SW_CPU_CLOCK || a.config == PERF_COUNT_SW_TASK_CLOCK))
                time_mask |= 1U << k;
        }
        skel->rodata->time_counters = time_mask;
        bpf_map__set_max_entries(skel->maps.counters,
                                 static_cast<__u32>(config.counters->size()) * ncpus);
        bpf_map__set_max_entries(skel->maps.threads, config.max_threads);
        bpf_map__set_value_size(skel->maps.threads,
                                static_cast<__u32>(PCTX_THREAD_SIZE(config.counters->size())));
    } else {
        // Without counters, sched_switch stays untouched.
        bpf_program__set_autoload(skel->progs.pctx_switch, false);
        bpf_program__set_autoload(skel->progs.pctx_seed, false);
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
    while (::read(iter.get(), buf, sizeof(buf)) > 0) {
    }
    return 0;
}

namespace {

bool consistent(const pctx_thread& t)
{
    return (t.seq & 1U) == 0;
}

} // namespace

bool LifecycleLoader::read_thread(std::uint32_t kernel_tid, pctx_thread& out) const
{
    // The map's values hold the requested counters only; the rest stays 0.
    out = pctx_thread{};
    const std::size_t size = bpf_map__value_size(skel_->maps.threads);
    // An odd seq means BPF was mid-update: read again (it is a few stores).
    for (int tries = 0; tries < 1000; ++tries) {
        if (bpf_map__lookup_elem(skel_->maps.threads, &kernel_tid, sizeof(kernel_tid), &out, size,
                                 0) != 0)
            return false;
        if (consistent(out))
            return true;
    }
    return false;
}

const std::vector<ThreadEntry>& LifecycleLoader::read_threads()
{
    std::vector<ThreadEntry>& out = threads_;
    out.clear();
    if (!counting_)
        return out;
    const int fd = bpf_map__fd(skel_->maps.threads);
    const std::size_t size = bpf_map__value_size(skel_->maps.threads);
    constexpr __u32 kChunk = 256;
    std::vector<__u32>& keys = batch_keys_;
    std::vector<unsigned char>& values = batch_values_;
    keys.resize(kChunk);
    values.resize(kChunk * size);
    __u32 batch = 0;
    bool first = true;
    for (;;) {
        __u32 count = kChunk;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        const int err = bpf_map_lookup_batch(fd, first ? nullptr : &batch, &batch, keys.data(),
                                             values.data(), &count, &opts);
        first = false;
        if (err != 0 && errno != ENOENT)
            break;
        for (__u32 i = 0; i < count; ++i) {
            ThreadEntry e{keys[i], {}};
            std::memcpy(&e.state, values.data() + i * size, size);
            if (!consistent(e.state) && !read_thread(e.kernel_tid, e.state))
                continue; // gone meanwhile
            out.push_back(e);
        }
        if (err != 0) // ENOENT: that was the last chunk
            break;
    }
    return out;
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
        total.thread_failed += s.thread_failed;
    }
    return total;
}

} // namespace pctx::detail
