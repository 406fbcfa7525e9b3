// `pctx-bpf list`: the events -c can name, software and hardware apart, each
// marked available on this machine or not (and why not).
#pragma once

#include <cstdio>

namespace pctx::cli {

int list_command(std::FILE* out);

} // namespace pctx::cli
