// `pctx-bpf agent`: options on a CLI11 subcommand; the fold and the
// exporter live in the agent library (userspace/agent).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

class AgentCommand {
public:
    // Adds the "agent" subcommand to app.
    explicit AgentCommand(CLI::App& app);
    AgentCommand(const AgentCommand&) = delete;
    AgentCommand& operator=(const AgentCommand&) = delete;

    CLI::App& subcommand() { return *agent_; }

    // After a successful parse: 0 after SIGTERM or SIGINT, 1 when the agent
    // cannot start or its event stream breaks, 2 on a usage error.
    int run(const std::optional<std::vector<std::string>>& after_dashes);

private:
    CLI::App* agent_ = nullptr;
    std::string counters_ = "task-clock,context-switches,page-faults";
    std::string cgroup_;
    std::string listen_ = "127.0.0.1:9464";
    bool per_pid_ = false;
    double series_ttl_ = 600;
    double interval_ = 5;
};

} // namespace pctx::cli
