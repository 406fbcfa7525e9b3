#include "cli/help_text.hpp"

#include "cli/event_catalog.hpp"
#include "pctx/pctx.hpp"

namespace pctx::cli::help {
namespace {

class RunFormatter final : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override
    {
        return "Usage: pctx-bpf run [OPTIONS] [--] COMMAND [ARGS...]\n"
               "       pctx-bpf run [OPTIONS] -p PID [-p PID...]\n"
               "       pctx-bpf run [OPTIONS] -a | --cgroup PATH [-- COMMAND [ARGS...]]\n";
    }
};

} // namespace

std::shared_ptr<CLI::Formatter> run_formatter()
{
    return std::make_shared<RunFormatter>();
}

std::string run_footer()
{
    return "EVENTS this machine can count (pctx-bpf list shows every event known):\n" +
           countable_summary(list_events()) +
           "\n"
           "EXAMPLES:\n"
           "  pctx-bpf run -c instructions,cycles -T 0.5 -- make -j2\n"
           "      instructions and cycles of every thread of make, every half second\n"
           "  pctx-bpf run -f -T 0 -c task-clock -- sh -c 'tar -cf - /usr/share/doc | wc -c'\n"
           "      a pipeline's processes, with their CPU time when each thread ends\n"
           "  pctx-bpf run -c cycles -c instructions,page-faults -N 10 -p 1234\n"
           "      10 samples of running process 1234, the two sets taking turns\n"
           "  pctx-bpf run -f --format chrome -o trace.json -- ./build.sh\n"
           "      a timeline for ui.perfetto.dev\n";
}

} // namespace pctx::cli::help
