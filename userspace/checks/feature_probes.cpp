#include "checks/feature_probes.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace pctx::detail {
namespace {

// A settled answer (0 or 1) is kept; -1 is "not asked yet".
int remembered(std::atomic<int>& cache, int (*probe)())
{
    int answer = cache.load();
    if (answer >= 0)
        return answer;
    answer = probe();
    if (answer >= 0)
        cache.store(answer);
    return answer;
}

int try_ring_buffer()
{
    return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
}

int try_tp_btf()
{
    // Without the kernel's BTF nothing can be told (and libbpf would
    // complain): the BTF check speaks for that.
    struct stat st {};
    if (::stat("/sys/kernel/btf/vmlinux", &st) != 0)
        return -ENOENT;
    btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux)
        return -ENOENT;
    const int id =
        btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF);
    btf__free(vmlinux);
    if (id <= 0)
        return 0;
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0}, // r0 = 0
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                  // exit
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts);
    opts.expected_attach_type = BPF_TRACE_RAW_TP;
    opts.attach_btf_id = static_cast<__u32>(id);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", insns,
                                 sizeof(insns) / sizeof(insns[0]), &opts);
    if (fd >= 0) {
        ::close(fd);
        return 1;
    }
    const int err = errno;
    return err == EPERM || err == EACCES ? -err : 0;
}

} // namespace

int probe_ring_buffer()
{
    static std::atomic<int> cache{-1};
    return remembered(cache, try_ring_buffer);
}

int probe_tp_btf()
{
    static std::atomic<int> cache{-1};
    return remembered(cache, try_tp_btf);
}

} // namespace pctx::detail
