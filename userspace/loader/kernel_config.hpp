// What pctx-bpf needs from the running kernel's build configuration, read
// where the kernel leaves it (/boot/config-RELEASE, /proc/config.gz).
#pragma once

namespace pctx::detail {

// CONFIG_HZ, or 250 (Debian's and most distributions' value) when no
// configuration can be read.
unsigned kernel_hz();

} // namespace pctx::detail
