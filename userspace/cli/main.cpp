// pctx-bpf: command-line entry. Parsing only; each subcommand has its files.
#include "cli/agent_command.hpp"
#include "cli/doctor_command.hpp"
#include "cli/help_text.hpp"
#include "cli/list_command.hpp"
#include "cli/probe_command.hpp"
#include "cli/run_command.hpp"
#include "cli/run_options.hpp"
#include "cli/std_fds.hpp"
#include "cli/plot_command.hpp"
#include "cli/top_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

static int run_main(int argc, char** argv)
{
    // What follows the first "--" is the command, untouched by option parsing.
    std::optional<std::vector<std::string>> after_dashes;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--") {
            after_dashes.emplace(argv + i + 1, argv + argc);
            argc = i;
            break;
        }
    }

    if (argc > 1 && std::string(argv[1]) == "probe")
        return pctx::cli::probe_command(argc - 1, argv + 1);
    if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "run" &&
        std::string(argv[1]) != "list" && std::string(argv[1]) != "doctor" &&
        std::string(argv[1]) != "plot" && std::string(argv[1]) != "top" &&
        std::string(argv[1]) != "agent") {
        std::fprintf(
            stderr,
            "pctx-bpf: unknown subcommand '%s' (run, list, doctor, probe, plot, top or agent)\n"
            "Run 'pctx-bpf --help' for more information.\n",
            argv[1]);
        return 2;
    }

    CLI::App app{pctx::cli::help::kProgramPurpose, "pctx-bpf"};
    app.require_subcommand(1);
    pctx::cli::RunOptions run(app);
    CLI::App* list = app.add_subcommand("list", pctx::cli::help::kListPurpose);
    CLI::App* doctor = app.add_subcommand("doctor", pctx::cli::help::kDoctorPurpose);
    std::string doctor_format = "text";
    doctor->add_option("--format", doctor_format, "text (a table) or json")
        ->check(CLI::IsMember({"text", "json"}));
    pctx::cli::PlotCommand plot(app);
    pctx::cli::TopCommand top(app);
    pctx::cli::AgentCommand agent(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        const std::string where = run.subcommand().parsed()     ? "pctx-bpf run"
                                  : plot.subcommand().parsed()  ? "pctx-bpf plot"
                                  : top.subcommand().parsed()   ? "pctx-bpf top"
                                  : agent.subcommand().parsed() ? "pctx-bpf agent"
                                                                : "pctx-bpf";
        std::fprintf(stderr, "%s: %s\nRun '%s --help' for more information.\n", where.c_str(),
                     e.what(), where.c_str());
        return 2;
    }

    if (list->parsed()) {
        if (after_dashes || !list->remaining().empty()) {
            std::fprintf(stderr, "pctx-bpf list: takes no arguments\n");
            return 2;
        }
        return pctx::cli::list_command(stdout);
    }
    if (doctor->parsed()) {
        if (after_dashes || !doctor->remaining().empty()) {
            std::fprintf(stderr, "pctx-bpf doctor: takes no arguments but --format\n");
            return 2;
        }
        return pctx::cli::doctor_command(doctor_format, stdout);
    }
    if (plot.subcommand().parsed())
        return plot.run(after_dashes);
    if (top.subcommand().parsed())
        return top.run(after_dashes);
    if (agent.subcommand().parsed())
        return agent.run(after_dashes);
    if (const auto failure = run.finish(after_dashes)) {
        if (failure->status == 2)
            std::fprintf(stderr,
                         "pctx-bpf run: %s\nRun 'pctx-bpf run --help' for more information.\n",
                         failure->message.c_str());
        else
            std::fprintf(stderr, "pctx-bpf: %s\n", failure->message.c_str());
        return failure->status;
    }
    return pctx::cli::run_command(run.config());
}

int main(int argc, char** argv)
{
    pctx::cli::reserve_standard_fds();
    try {
        return run_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "pctx-bpf: unexpected error\n");
    }
    return 1;
}
