// The checks a session runs before it loads or starts anything.
#pragma once

namespace pctx::detail {

// Throws pctx::Error(fn, ...) naming every missing requirement of BPF
// tracing (capabilities, sysctls, seccomp, kernel features) and its fix.
// BTF is left to the loader, which checks it first with the same words.
void require_environment(const char* fn);

} // namespace pctx::detail
