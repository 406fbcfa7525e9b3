// `pctx-bpf run`: trace a command or a running process, one row per event.
#pragma once

#include "cli/output/writer.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace pctx::cli {

struct RunConfig {
    std::vector<std::string> command; // spawn this, or
    pid_t pid = 0;                    // capture this
    bool follow_forks = false;        // -f
    bool stop_at_exec = false;        // --stop-at-exec
    bool show_lwp_rows = false;       // -v
    bool debug = false;               // --debug: libbpf's own messages
    Format format = Format::Text;
    std::string output_path; // -o; empty: stdout
};

// Returns the process exit status: the spawned command's own (128+signal for
// a signal death), 0 after a capture, 1 on an error (already reported).
int run_command(const RunConfig& config);

} // namespace pctx::cli
