// `pctx-bpf run`: trace a command or running processes, one row per event,
// then a summary; returns the process exit status.
#pragma once

#include "cli/run_config.hpp"

namespace pctx::cli {

// The spawned command's own status (128+signal for a signal death; 128+N
// when signal N ended the run), 0 after a capture or when -N ended the run,
// 1 on an error (already reported).
int run_command(const RunConfig& config);

} // namespace pctx::cli
