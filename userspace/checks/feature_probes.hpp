// Kernel features pctx-bpf needs, found by trying them (never by version).
// Each answers 1 (there), 0 (not there) or a negative errno (cannot tell:
// bpf() itself was refused); answers of 0 or 1 are remembered.
#pragma once

namespace pctx::detail {

int probe_ring_buffer();

// A tp_btf program on sched_process_exec, loaded and closed. libbpf 1.1's
// own probe (libbpf_probe_bpf_prog_type) matches a verifier message that
// newer kernels word differently, so it answers 0 on 6.x kernels that have it.
int probe_tp_btf();

} // namespace pctx::detail
