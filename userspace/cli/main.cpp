// pctx-bpf: command-line entry. Parsing only; each subcommand has its file.
#include "cli/run_command.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// "PID must be a positive integer": one message for 0, -1 and "abc" alike.
const CLI::Validator positive_pid(
    [](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long pid = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || errno != 0 || pid <= 0 || pid > INT_MAX)
            return "PID must be a positive integer, not '" + value + "'";
        return {};
    },
    "PID");

} // namespace

static int run_main(int argc, char** argv)
{
    // What follows the first "--" is the command, untouched by option parsing.
    std::vector<std::string> after_dashes;
    bool has_dashes = false;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--") {
            after_dashes.assign(argv + i + 1, argv + argc);
            has_dashes = true;
            argc = i;
            break;
        }
    }

    CLI::App app{"pctx-bpf: trace the lifecycle of a process tree with BPF, without stopping it"};
    app.require_subcommand(1);

    pctx::cli::RunConfig run;
    std::string format = "text";
    CLI::App* run_cmd = app.add_subcommand(
        "run", "Run a command (or capture a process) and print its lifecycle events");
    run_cmd->add_flag("-f,--follow", run.follow_forks, "Follow forks: trace children too");
    run_cmd->add_flag("--stop-at-exec", run.stop_at_exec,
                      "Release a process when it execs (cputrack's default before -e)");
    run_cmd->add_flag("-v,--verbose", run.show_lwp_rows,
                      "Text output: also init_lwp/fini_lwp rows");
    run_cmd->add_flag("--debug", run.debug, "Print libbpf's messages while loading");
    run_cmd->add_option("-p,--pid", run.pid, "Capture the running process PID")
        ->check(positive_pid);
    run_cmd->add_option("--format", format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    run_cmd->add_option("-o,--output", run.output_path, "Write events to FILE, not stdout");
    // Everything from the first non-option on is the command's own.
    run_cmd->prefix_command();
    run_cmd->footer("\nEXAMPLES:\n"
                    "    pctx-bpf run -- make -j2          # trace make and its process\n"
                    "    pctx-bpf run -f -- make -j2       # ... and every child it forks\n"
                    "    pctx-bpf run -p 1234              # capture running process 1234\n"
                    "    pctx-bpf run --format json -o ev.json -- ./server\n");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }

    if (run_cmd->parsed()) {
        run.command = run_cmd->remaining();
        if (!run.command.empty() && run.command.front().rfind('-', 0) == 0) {
            std::fprintf(stderr,
                         "pctx-bpf run: unknown option '%s'\nRun with --help for more "
                         "information.\n",
                         run.command.front().c_str());
            return 2;
        }
        if (has_dashes) {
            if (!run.command.empty()) {
                std::fprintf(stderr, "pctx-bpf run: put the whole command after --\n");
                return 2;
            }
            run.command = after_dashes;
        }
        if (run.command.empty() == (run.pid == 0)) {
            std::fprintf(stderr,
                         "pctx-bpf run: give either a command to run (after --) or -p "
                         "PID, not %s\nRun with --help for more information.\n",
                         run.command.empty() ? "neither" : "both");
            return 2;
        }
        run.format = format == "json" ? pctx::cli::Format::Json : pctx::cli::Format::Text;
        return pctx::cli::run_command(run);
    }
    return 2;
}

int main(int argc, char** argv)
{
    try {
        return run_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pctx-bpf: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "pctx-bpf: unexpected error\n");
    }
    return 1;
}
