// cputrack's layout: time, pid, lwp, event, then what the event carries.
#include "cli/output/writer.hpp"

#include <string>

namespace pctx::cli {
namespace {

class TextWriter final : public Writer {
public:
    TextWriter(const WriterConfig& config, std::FILE* out) : config_(config), out_(out)
    {
        if (config_.show_pid)
            std::fprintf(out_, "%9s %7s %7s %10s\n", "time", "pid", "lwp", "event");
        else
            std::fprintf(out_, "%9s %7s %10s\n", "time", "lwp", "event");
    }

    void write(const Row& row) override
    {
        if (!config_.show_lwp_rows && (row.event == "init_lwp" || row.event == "fini_lwp"))
            return;
        const double secs = row.time_ns >= config_.start_ns
                                ? static_cast<double>(row.time_ns - config_.start_ns) / 1e9
                                : 0.0;
        if (config_.show_pid)
            std::fprintf(out_, "%9.3f %7d %7d %10s", secs, row.pid, row.tid, row.event.c_str());
        else
            std::fprintf(out_, "%9.3f %7d %10s", secs, row.tid, row.event.c_str());
        if (row.child_pid)
            std::fprintf(out_, "  # %d", *row.child_pid);
        if (row.args) {
            std::string line;
            for (const auto& a : *row.args)
                line += (line.empty() ? "" : " ") + a;
            std::fprintf(out_, "  # '%s'", line.c_str());
        }
        if (row.status) {
            if (row.signal && *row.signal != 0)
                std::fprintf(out_, "  # killed by signal %d", *row.signal);
            else
                std::fprintf(out_, "  # status %d", *row.status);
        }
        if (row.count)
            std::fprintf(out_, "  # %llu events lost", static_cast<unsigned long long>(*row.count));
        std::fputc('\n', out_);
    }

    void finish() override { std::fflush(out_); }

private:
    WriterConfig config_;
    std::FILE* out_;
};

} // namespace

std::unique_ptr<Writer> make_text_writer(const WriterConfig& config, std::FILE* out)
{
    return std::make_unique<TextWriter>(config, out);
}

} // namespace pctx::cli
