// Owns the lifecycle BPF object: loads it configured for this session,
// attaches it through BPF links (so nothing outlives this process), and gives
// access to the tracked map, the ring buffer, the loss counters and the
// counted threads.
//
// Error policy: setting up (the constructor) throws std::runtime_error with
// a message fit for the user; every later operation returns 0 or an errno
// and fills its out-parameters only on success. Nothing fails silently or
// as an empty result.
#pragma once

#include "lifecycle.h"
#include "loader/skeleton.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <type_traits>

struct lifecycle_bpf;

static_assert(std::is_trivially_copyable_v<pctx_record> &&
                  sizeof(pctx_record) == 40 + 8 * PCTX_MAX_COUNTERS,
              "pctx_record is shared with BPF: its layout must not change by accident");
static_assert(sizeof(pctx_tracked) == 16 &&
              sizeof(pctx_stats) == sizeof(__u64) * (PCTX_LOSS_KINDS + 1));
static_assert(std::is_trivially_copyable_v<pctx_thread>);

namespace pctx::detail {

class PerfEventSet;

struct LoaderConfig {
    std::size_t ring_buffer_bytes = 4U << 20;
    std::uint32_t max_processes = 16384;
    std::uint32_t max_threads = 16384; // counted threads at once
    bool verbose = false;
    const PerfEventSet* counters = nullptr; // none: no per-thread counting at all
    pid_t pidns = 0; // ids as this process's pid namespace sees them; 0: the loader's
    // Besides the processes tracked by track(): those of a cgroup subtree
    // (its root's id) or of the whole machine (enum pctx_scope_kind).
    std::uint32_t scope_kind = PCTX_SCOPE_NONE;
    std::uint64_t scope_cgroup_id = 0;
};

// One counted thread, as the threads map holds it, with the kernel's tid.
struct ThreadEntry {
    std::uint32_t kernel_tid = 0;
    std::uint64_t rt_now = 0; // its runtime as the scheduler has accounted it
    pctx_thread state{};
};

class LifecycleLoader {
public:
    // Throws std::runtime_error with a message fit for the user.
    explicit LifecycleLoader(const LoaderConfig& config);
    ~LifecycleLoader();
    LifecycleLoader(const LifecycleLoader&) = delete;
    LifecycleLoader& operator=(const LifecycleLoader&) = delete;

    // Starts tracking pid (loader's pid namespace) with PCTX_TRACK_* flags; errno on failure.
    int track(pid_t pid, std::uint32_t flags);
    void untrack(pid_t pid);
    // Removes pid's entry if BPF left it marked dead (see pctx_tracked): a
    // live process's entry, a reused pid's included, is never touched.
    void forget_dead(pid_t pid);

    using RecordFn = std::function<int(const pctx_record&, std::size_t size)>;
    // Calls fn for each record ready now, in ring order; fn's non-zero stops the
    // batch. Returns records consumed or a negative errno.
    int consume(const RecordFn& fn);
    int ring_fd() const;

    // Kernel-side losses so far, by kind, summed over CPUs.
    int stats(pctx_stats& out) const;

    // Counting (only with LoaderConfig::counters): starts counting the threads
    // pid has now (pid 0: every tracked process has); returns 0 or an errno.
    int seed_threads(pid_t pid);
    // Every counted thread, each entry whole (a seqlock read in the
    // kernel), in one pass of the sampling iterator. out is reused by the
    // caller from tick to tick, so a tick allocates nothing.
    int read_threads(std::vector<ThreadEntry>& out);
    // One thread again: 0, ENOENT when it is gone, or another errno.
    int read_thread(std::uint32_t kernel_tid, pctx_thread& out) const;
    // Ends the counting of process pid's threads (a process that left the
    // scope): their entries, as last switched out, into out, then removed.
    int take_threads(pid_t pid, std::vector<ThreadEntry>& out);

private:
    static int on_record(void* ctx, void* data, std::size_t size);
    static SkeletonPtr<lifecycle_bpf>
    open_configured(const LoaderConfig& config, const std::string& btf, const struct stat& ns);

    // read_threads()'s buffer, kept: 1000 threads are 160 KB, which malloc
    // would map and unmap (and fault in) at every tick.
    std::vector<unsigned char> sample_buf_;
    SkeletonPtr<lifecycle_bpf> skel_;
    RingBufferPtr ring_;
    const RecordFn* current_fn_ = nullptr;
    bool counting_ = false;
    int ncpus_ = 1;
};

} // namespace pctx::detail
