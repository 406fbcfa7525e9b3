// `pctx-bpf plot RUN.jsonl -o FILE.svg|FILE.png`: options on a CLI11
// subcommand; the picture itself is drawn by the views library.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

class PlotCommand {
public:
    // Adds the "plot" subcommand to app.
    explicit PlotCommand(CLI::App& app);
    PlotCommand(const PlotCommand&) = delete;
    PlotCommand& operator=(const PlotCommand&) = delete;

    CLI::App& subcommand() { return *plot_; }

    // After a successful parse: 0 with the picture written, 1 when the
    // recording cannot be read or the picture written, 2 on a usage error.
    int run(const std::optional<std::vector<std::string>>& after_dashes);

private:
    CLI::App* plot_ = nullptr;
    std::string input_;
    std::string output_;
};

} // namespace pctx::cli
