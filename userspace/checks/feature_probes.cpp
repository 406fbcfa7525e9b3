#include "checks/feature_probes.hpp"

#include "checks/vmlinux_btf.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
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

// The walk takes 0.2 ms where the kernel maps its BTF (a few ms where it is
// read), libbpf's full parse 15 to 25 ms: libbpf only for a BTF layout the
// walk does not know.
int tracepoint_type_id(const char* name)
{
    const int id = find_vmlinux_type_id(name, BTF_KIND_TYPEDEF);
    if (id != -EOPNOTSUPP)
        return id;
    btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux)
        return -ENOENT;
    const int found = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
    btf__free(vmlinux);
    return found;
}

int try_tp_btf()
{
    // Without the kernel's BTF nothing can be told (and libbpf would
    // complain): the BTF check speaks for that.
    const int id = tracepoint_type_id("btf_trace_sched_process_exec");
    if (id == -ENOENT)
        return -ENOENT;
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
