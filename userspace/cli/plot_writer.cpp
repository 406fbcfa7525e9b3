#include "cli/plot_writer.hpp"

#include "pctx/pctx.hpp"
#include "views/timeline_cairo.hpp"
#include "views/timeline_model.hpp"

#include <cstdio>
#include <utility>

namespace pctx::cli {
namespace {

// The same event the JSON line of this row would give `pctx-bpf plot`.
detail::TimelineEvent timeline_event(const Row& row)
{
    detail::TimelineEvent e;
    e.event = row.event;
    e.pid = row.pid;
    e.tid = row.tid;
    e.time_ns = row.time_ns;
    e.child_pid = row.child_pid;
    if (row.args)
        e.args = *row.args;
    e.status = row.status;
    e.signal = row.signal;
    for (const char* name : {"task-clock", "cpu-clock"}) {
        for (const CounterValue& v : row.counters)
            if (v.name == name && !e.cpu_ns)
                e.cpu_ns = v.value;
    }
    return e;
}

class PlotWriter final : public Writer {
public:
    PlotWriter(std::unique_ptr<Writer> inner, std::string path, bool& failed)
        : inner_(std::move(inner)), path_(std::move(path)), failed_(failed)
    {
    }

    void write(const Row& row) override
    {
        inner_->write(row);
        builder_.add(timeline_event(row));
    }

    void finish() override
    {
        inner_->finish();
        if (builder_.events() == 0) {
            std::fprintf(stderr, "pctx-bpf: no events recorded: '%s' not written\n", path_.c_str());
            failed_ = true;
            return;
        }
        try {
            detail::draw_timeline(builder_.build(), path_);
        } catch (const Error& e) {
            std::fprintf(stderr, "pctx-bpf: --plot: %s\n", e.what());
            failed_ = true;
        }
    }

private:
    std::unique_ptr<Writer> inner_;
    std::string path_;
    bool& failed_;
    detail::TimelineBuilder builder_;
};

} // namespace

std::unique_ptr<Writer> tee_plot(std::unique_ptr<Writer> inner, const std::string& path,
                                 bool& failed)
{
    if (path.empty())
        return inner;
    return std::make_unique<PlotWriter>(std::move(inner), path, failed);
}

} // namespace pctx::cli
