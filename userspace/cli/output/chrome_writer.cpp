// Chrome Trace Event Format, as ui.perfetto.dev and chrome://tracing load it:
// one JSON object {"displayTimeUnit":"ns","traceEvents":[...]}. Each process
// and thread gets a named track (metadata events), each row an instant event
// on its thread's track, and each counter on a thread's row a counter event
// (the thread's running total) on a track "lwp TID COUNTER". Timestamps are
// microseconds since the first row. The array is closed by finish().
#include "cli/output/writer.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <map>
#include <string>
#include <utility>

namespace pctx::cli {
namespace {

using nlohmann::json;

constexpr pid_t kMaxTid = std::numeric_limits<pid_t>::max();

std::string program_of(const std::string& command)
{
    std::string prog = command.substr(0, command.find(' '));
    const auto slash = prog.rfind('/');
    if (slash != std::string::npos && slash + 1 < prog.size())
        prog.erase(0, slash + 1);
    return prog;
}

json args_of(const Row& row)
{
    json a = json::object();
    if (row.child_pid)
        a["child_pid"] = *row.child_pid;
    if (row.args)
        a["args"] = *row.args;
    if (row.args_truncated)
        a["args_truncated"] = true;
    if (row.status)
        a["status"] = *row.status;
    if (row.signal)
        a["signal"] = *row.signal;
    if (row.count)
        a["count"] = *row.count;
    if (row.lost)
        for (const auto& [kind, n] : lost_by_kind(*row.lost))
            a["lost_" + std::string(kind)] = n;
    if (row.uncounted)
        a["uncounted"] = true;
    if (row.unfollowed)
        a["followed"] = false;
    if (row.reconciled)
        a["reconciled"] = true;
    if (row.set)
        a["set"] = *row.set;
    if (row.probe)
        a["probe"] = probe_text(*row.probe);
    if (!row.counters.empty()) {
        json c = json::object();
        for (const auto& v : row.counters)
            c[v.name] = v.value;
        a["counters"] = c;
    }
    if (!row.deltas.empty()) {
        json d = json::object();
        for (const auto& v : row.deltas)
            d[v.name] = v.value;
        a["deltas"] = d;
    }
    return a;
}

class ChromeWriter final : public Writer {
public:
    explicit ChromeWriter(Sink& out) : out_(out)
    {
        out_.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    }

    void write(const Row& row) override
    {
        if (!t0_)
            t0_ = row.time_ns;
        const double ts =
            row.time_ns > *t0_ ? static_cast<double>(row.time_ns - *t0_) / 1000.0 : 0.0;
        if (row.pid > 0)
            name_tracks(row);

        json instant = {
            {"name", row.probe ? row.probe->provider + ":" + row.probe->name : row.event},
            {"cat", "pctx"},
            {"ph", "i"},
            {"ts", ts},
            {"pid", row.pid},
            {"tid", row.tid},
            {"s", row.pid > 0 ? "t" : "g"}};
        const json args = args_of(row);
        if (!args.empty())
            instant["args"] = args;
        emit(instant);

        // Threads' running totals only: exec and exit rows carry the whole
        // process's (in their instant event's args).
        if (row.event == "exit")
            forget(row.pid);
        if (row.event == "exit" || row.event == "exec")
            return;
        for (const auto& v : row.counters)
            emit({{"name", "lwp " + std::to_string(row.tid) + " " + v.name},
                  {"cat", "pctx"},
                  {"ph", "C"},
                  {"ts", ts},
                  {"pid", row.pid},
                  {"tid", row.tid},
                  {"args", {{"value", v.value}}}});
    }

    void finish() override
    {
        out_.write("]}\n");
        out_.flush();
    }

private:
    void name_tracks(const Row& row)
    {
        const std::string name =
            row.command.empty() ? "pid " + std::to_string(row.pid) : row.command;
        auto& proc = processes_[row.pid];
        if (proc != name) {
            proc = name;
            emit({{"name", "process_name"},
                  {"ph", "M"},
                  {"pid", row.pid},
                  {"tid", row.pid},
                  {"args", {{"name", name}}}});
        }
        auto& thread = threads_[{row.pid, row.tid}];
        if (thread != name) {
            thread = name;
            const std::string prog = row.command.empty() ? "lwp" : program_of(row.command);
            emit({{"name", "thread_name"},
                  {"ph", "M"},
                  {"pid", row.pid},
                  {"tid", row.tid},
                  {"args", {{"name", prog + " " + std::to_string(row.tid)}}}});
        }
    }

    // A pid that exited may come back as another process: name it afresh.
    void forget(pid_t pid)
    {
        processes_.erase(pid);
        threads_.erase(threads_.lower_bound({pid, 0}), threads_.upper_bound({pid, kMaxTid}));
    }

    void emit(const json& event)
    {
        // One event a line, the comma leading: every line is complete when written.
        std::string line = first_ ? "" : ",";
        first_ = false;
        line += event.dump(-1, ' ', false, json::error_handler_t::replace);
        line += '\n';
        out_.write(line);
    }

    Sink& out_;
    bool first_ = true;
    std::optional<std::uint64_t> t0_;
    std::map<pid_t, std::string> processes_;                 // the name each pid's track has
    std::map<std::pair<pid_t, pid_t>, std::string> threads_; // the command each thread was named by
};

} // namespace

std::unique_ptr<Writer> make_chrome_writer(Sink& out)
{
    return std::make_unique<ChromeWriter>(out);
}

} // namespace pctx::cli
