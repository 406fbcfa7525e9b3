// This process's effective capabilities, read through libcap.
#pragma once

#include <string>

namespace pctx::detail {

// Capability numbers newer than some C libraries' headers.
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool has_effective_capability(int cap);

// What BPF tracing needs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, which
// covers both), as "CAP_BPF", "CAP_PERFMON", "CAP_BPF and CAP_PERFMON" or ""
// when nothing is missing.
std::string missing_bpf_capabilities();

} // namespace pctx::detail
