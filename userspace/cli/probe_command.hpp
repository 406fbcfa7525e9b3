// pctx-bpf probe: list and trace the USDT probes of another process
// (libtnfctl's job), over pctx::ProbeControl.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pctx::cli {

// argv[0] is "probe". Returns the exit status: 2 for usage errors.
int probe_command(int argc, char** argv);

struct ProbeListOptions {
    std::string format = "text"; // text or json
    pid_t pid = 0;               // 0: list the binaries
    std::vector<std::string> binaries;
};
int probe_list(const ProbeListOptions& options);

struct ProbeTraceOptions {
    std::string format = "text"; // text, json or csv
    pid_t pid = 0;
    std::vector<std::string> patterns; // provider:name, '*' wildcards
};
int probe_trace(const ProbeTraceOptions& options);

} // namespace pctx::cli
