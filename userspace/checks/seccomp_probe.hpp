// Whether a seccomp filter refuses the system calls pctx-bpf needs. Docker's,
// Podman's and containerd's default profiles refuse bpf() and
// perf_event_open() with EPERM, which otherwise reads as a missing capability.
#pragma once

namespace pctx::detail {

// Seccomp: from /proc/self/status (0 none, 1 strict, 2 filter).
int seccomp_mode();

enum class Refusal { Allowed, Refused, Unclear };

// Each tries a harmless call that the kernel itself answers with something
// other than EPERM (an unknown bpf command, a NULL perf_event_attr).
// bpf(): on kernels before 6.5 the kernel also says EPERM to a process
// without CAP_BPF when kernel.unprivileged_bpf_disabled is set: Unclear then.
Refusal seccomp_refuses_bpf();
Refusal seccomp_refuses_perf_event_open();

} // namespace pctx::detail
