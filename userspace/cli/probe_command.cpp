// Option parsing of "pctx-bpf probe list|trace"; the work is in
// probe_list.cpp and probe_trace.cpp.
#include "cli/probe_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace pctx::cli {

int probe_command(int argc, char** argv)
{
    CLI::App app{"List and trace the USDT probes (<sys/sdt.h>) of another process, as illumos's "
                 "libtnfctl did for TNF probes.",
                 "pctx-bpf probe"};
    app.require_subcommand(1);
    app.footer("EXAMPLES:\n"
               "  pctx-bpf probe list -p 1234\n"
               "  pctx-bpf probe list /usr/bin/python3.11\n"
               "  pctx-bpf probe trace -p 1234 'python:function__*'\n"
               "Enabling probes (trace) needs CAP_SYS_ADMIN; listing does not.");
    ProbeListOptions list_opts;
    CLI::App* list = app.add_subcommand(
        "list", "List probes with provider, name, object, address, semaphore and arguments");
    list->add_option("--format", list_opts.format, "text or json")
        ->check(CLI::IsMember({"text", "json"}));
    list->add_option("-p,--pid", list_opts.pid, "a running process");
    list->add_option("binary", list_opts.binaries, "ELF files to read instead");

    ProbeTraceOptions trace_opts;
    CLI::App* trace = app.add_subcommand(
        "trace", "Print each hit of the matching probes until Ctrl-C or the process exits");
    trace->add_option("--format", trace_opts.format, "text, json, csv or chrome")
        ->check(CLI::IsMember({"text", "json", "csv", "chrome"}));
    trace->add_option("-p,--pid", trace_opts.pid, "the process")->required();
    trace->add_option("pattern", trace_opts.patterns, "provider:name, with * wildcards")
        ->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr,
                     "pctx-bpf probe: %s\nRun 'pctx-bpf probe --help' for more information.\n",
                     e.what());
        return 2;
    }
    if (list->parsed()) {
        if ((list_opts.pid != 0) == !list_opts.binaries.empty()) {
            std::fprintf(stderr, "pctx-bpf probe list: give either -p PID or BINARY...\n");
            return 2;
        }
        return probe_list(list_opts);
    }
    for (const auto& pattern : trace_opts.patterns)
        if (pattern.find(':') == std::string::npos) {
            std::fprintf(stderr,
                         "pctx-bpf probe trace: pattern '%s' is not provider:name (use * for "
                         "any, e.g. 'python:*')\n",
                         pattern.c_str());
            return 2;
        }
    return probe_trace(trace_opts);
}

} // namespace pctx::cli
