// `pctx-bpf run`'s options: declared on a CLI11 subcommand, then checked into
// a RunConfig. Nothing here loads or starts anything.
#pragma once

#include "cli/run_config.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

struct UsageFailure {
    int status = 2; // 2: a usage error; 1: this machine cannot do what was asked
    std::string message;
};

class RunOptions {
public:
    // Adds the "run" subcommand to app.
    explicit RunOptions(CLI::App& app);
    RunOptions(const RunOptions&) = delete;
    RunOptions& operator=(const RunOptions&) = delete;

    CLI::App& subcommand() { return *run_; }

    // After a successful parse: checks the values and the command (the words
    // after "--" when given, else what CLI11 left) into config().
    std::optional<UsageFailure> finish(const std::optional<std::vector<std::string>>& after_dashes);
    const RunConfig& config() const { return config_; }

private:
    CLI::App* run_;
    RunConfig config_;
    std::vector<std::string> sets_;
    std::vector<pid_t> pids_;
    std::string pidns_;
    std::string interval_ = "1";
    unsigned samples_ = 0;
    std::string format_ = "text";
    bool exec_compat_ = false;
    bool tick_ = false;
};

} // namespace pctx::cli
