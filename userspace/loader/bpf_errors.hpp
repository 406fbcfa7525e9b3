// Turns a failure to open, load or attach BPF into a message that says what
// is missing on this machine and what to do about it.
#pragma once

#include <string>

namespace pctx::detail {

// Empty when the BTF file exists; otherwise the message to show.
std::string check_btf(const std::string& btf_path);

// err is a negative errno from libbpf; stage is "load" or "attach".
std::string explain_bpf_failure(int err, const std::string& stage);

} // namespace pctx::detail
