// cputrack's layout: time [pid] lwp event [tick] counter..., numbers right-
// aligned under a header, and what an event carries after a '#'. Tick rows
// show each counter's change since the thread's previous sample; the other
// rows with counters show totals.
#include "cli/output/escape.hpp"
#include "cli/output/writer.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace pctx::cli {
namespace {

template <typename... Args> void append(std::string& s, const char* format, Args... args)
{
    char buf[256];
    const int n = std::snprintf(buf, sizeof(buf), format, args...);
    if (n > 0)
        s.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1));
}

const CounterValue* find(const std::vector<CounterValue>& values, const std::string& name)
{
    for (const auto& v : values)
        if (v.name == name)
            return &v;
    return nullptr;
}

class TextWriter final : public Writer {
public:
    TextWriter(WriterConfig config, Sink& out) : config_(std::move(config)), out_(out)
    {
        if (config_.tick_counter)
            columns_.push_back(*config_.tick_counter);
        columns_.insert(columns_.end(), config_.counter_columns.begin(),
                        config_.counter_columns.end());
        header_pending_ = config_.header;
    }

    void write(const Row& row) override
    {
        // The header waits for the first event: a command that cannot be
        // run gets its error alone, not under a header.
        if (header_pending_)
            print_header();
        if (!config_.show_lwp_rows && (row.event == "init_lwp" || row.event == "fini_lwp"))
            return;
        std::string line = time_of(row);
        if (config_.show_pid)
            append(line, " %7d", row.pid);
        append(line, " %7d %10s", row.tid, row.event.c_str());
        const auto& values = row.event == "tick" ? row.deltas : row.counters;
        for (const auto& name : columns_) {
            const CounterValue* v = find(values, name);
            if (v)
                append(line, " %*llu", counter_width(name),
                       static_cast<unsigned long long>(v->value));
            else
                line.append(static_cast<std::size_t>(counter_width(name)) + 1, ' ');
        }

        std::string note;
        if (row.probe)
            note = escape_text(probe_text(*row.probe));
        else if (row.child_pid)
            note = std::to_string(*row.child_pid) + (row.unfollowed ? " (not followed)" : "");
        if (row.args)
            note = "'" + escape_text(join_args(*row.args)) + (row.args_truncated ? " ...'" : "'");
        if (row.status)
            note = row.signal && *row.signal != 0
                       ? "killed by signal " + std::to_string(*row.signal)
                       : "status " + std::to_string(*row.status);
        if (row.reconciled)
            note = "exit lost, status unknown";
        if (row.uncounted)
            note = "uncounted";
        if (row.count)
            note = std::to_string(*row.count) + " events lost";
        if (row.set)
            note = "set " + std::to_string(*row.set);

        // An exec with counters: the old image's totals, then the new command
        // on a row of its own, as cputrack prints it.
        if (row.args && !row.counters.empty()) {
            emit(line);
            line = time_of(row);
            line.append(static_cast<std::size_t>(config_.show_pid ? 8 : 0) + 19, ' ');
        }
        if (!note.empty())
            line += "  # " + note;
        emit(line);
    }

    void finish() override { out_.flush(); }

private:
    void print_header()
    {
        header_pending_ = false;
        std::string line;
        append(line, "%9s", "time");
        if (config_.show_pid)
            append(line, " %7s", "pid");
        append(line, " %7s %10s", "lwp", "event");
        for (const auto& name : columns_)
            append(line, " %*s", counter_width(name), name.c_str());
        emit(line);
    }

    std::string time_of(const Row& row) const
    {
        const double secs = row.time_ns >= config_.start_ns
                                ? static_cast<double>(row.time_ns - config_.start_ns) / 1e9
                                : 0.0;
        std::string s;
        append(s, "%9.3f", secs);
        return s;
    }

    void emit(std::string& line)
    {
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        line += '\n';
        out_.write(line);
    }

    WriterConfig config_;
    Sink& out_;
    std::vector<std::string> columns_;
    bool header_pending_ = false;
};

} // namespace

std::unique_ptr<Writer> make_text_writer(const WriterConfig& config, Sink& out)
{
    return std::make_unique<TextWriter>(config, out);
}

} // namespace pctx::cli
