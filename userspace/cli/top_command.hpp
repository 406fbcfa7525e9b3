// `pctx-bpf top`: options on a CLI11 subcommand; the view itself (model,
// session, screen and batch text) lives in the views library.
#pragma once

#include <CLI/CLI.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

class TopCommand {
public:
    // Adds the "top" subcommand to app.
    explicit TopCommand(CLI::App& app);
    TopCommand(const TopCommand&) = delete;
    TopCommand& operator=(const TopCommand&) = delete;

    CLI::App& subcommand() { return *top_; }

    // After a successful parse: 0 when done, 1 when the session cannot
    // start, 2 on a usage error.
    int run(const std::optional<std::vector<std::string>>& after_dashes);

private:
    CLI::App* top_ = nullptr;
    std::vector<pid_t> pids_;
    bool follow_ = false;
    bool all_ = false;
    std::string cgroup_;
    std::string counters_ = "task-clock,context-switches,page-faults";
    double delay_ = 2.0;
    bool batch_ = false;
    unsigned iterations_ = 0;
};

} // namespace pctx::cli
