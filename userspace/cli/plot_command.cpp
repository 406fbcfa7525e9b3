#include "cli/plot_command.hpp"

#include "pctx/pctx.hpp"
#include "views/timeline_cairo.hpp"
#include "views/timeline_json.hpp"

#include <cstdio>

namespace pctx::cli {
namespace {

constexpr const char* kPurpose =
    "Draw a recorded run as a timeline picture: a lane per process, CPU use shaded";
constexpr const char* kInput = "The recording: the output of 'pctx-bpf run --format json'";
constexpr const char* kOutput = "Write the picture to FILE, SVG or PNG by its extension";
constexpr const char* kFooter =
    "Each process is a lane under its parent, in fork order: a bar for its lifetime, a line\n"
    "at each exec, the command on it, an arrow from its parent's fork and its exit status at\n"
    "the end. Bars are shaded by CPU use when the run counted task-clock or cpu-clock.\n"
    "\n"
    "EXAMPLE:\n"
    "  pctx-bpf run -f -c task-clock -T 0.05 --format json -o run.jsonl -- make -j2\n"
    "  pctx-bpf plot run.jsonl -o run.svg\n";

int usage(const std::string& message)
{
    std::fprintf(stderr, "pctx-bpf plot: %s\nRun 'pctx-bpf plot --help' for more information.\n",
                 message.c_str());
    return 2;
}

} // namespace

PlotCommand::PlotCommand(CLI::App& app)
{
    plot_ = app.add_subcommand("plot", kPurpose);
    plot_->add_option("RUN", input_, kInput)->type_name("RUN.jsonl")->required();
    plot_->add_option("-o,--output", output_, kOutput)->type_name("FILE.svg|FILE.png")->required();
    plot_->footer(kFooter);
}

int PlotCommand::run(const std::optional<std::vector<std::string>>& after_dashes)
{
    if (after_dashes || !plot_->remaining().empty())
        return usage("takes one recording, not more");
    if (!detail::picture_format_of(output_))
        return usage("-o: name the picture FILE.svg or FILE.png, not '" + output_ + "'");
    try {
        detail::draw_timeline(detail::read_timeline(input_), output_);
    } catch (const Error& e) {
        std::fprintf(stderr, "pctx-bpf plot: %s\n", e.what());
        return 1;
    }
    return 0;
}

} // namespace pctx::cli
