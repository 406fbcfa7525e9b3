// top -b: the table as text, one per refresh.
#include "views/top_screen.hpp"
#include "views/top_signals.hpp"
#include "views/top_table.hpp"

#include <ctime>
#include <memory>

namespace pctx::detail {
namespace {

void print_table(const TopModel& model, const TopView& view, std::FILE* out)
{
    const std::time_t now = std::time(nullptr);
    char clock[16];
    std::tm local{};
    ::localtime_r(&now, &local);
    std::strftime(clock, sizeof(clock), "%H:%M:%S", &local);
    const TopTable table = format_table(model, view, 0);
    std::fprintf(out, "pctx-bpf top - %s  %s\n\n%s\n", clock, format_totals(model.totals()).c_str(),
                 table.header.c_str());
    for (const auto& line : table.lines)
        std::fprintf(out, "%s\n", line.text.c_str());
    std::fprintf(out, "\n");
    std::fflush(out);
}

} // namespace

int run_top_batch(const TopSettings& settings, unsigned count, std::FILE* out)
{
    // Before the session: the spawner puts back, in the command's child, the
    // handlers it finds, and keeps them in force around its fork.
    install_top_signals(false);
    TopView view;
    view.sort = 2; // the first rate column: the busiest first
    unsigned printed = 0;
    try {
        auto feed = std::make_unique<TopFeed>(settings.scope, settings.counters, settings.interval);
        interrupt_on_signals(feed.get());
        while (!quit_requested() && (count == 0 || printed < count)) {
            const TopFeed::Step step = feed->step();
            for (const auto& d : feed->take_diagnostics())
                std::fprintf(stderr, "pctx-bpf top: %s\n", d.c_str());
            if (step == TopFeed::Step::Interrupted)
                continue;
            print_table(feed->model(), view, out);
            ++printed;
            if (step == TopFeed::Step::Finished)
                break;
        }
    } catch (...) {
        restore_top_signals();
        throw;
    }
    restore_top_signals();
    return 0;
}

} // namespace pctx::detail
