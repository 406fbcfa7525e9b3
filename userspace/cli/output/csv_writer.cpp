// CSV (RFC 4180): one header, one record per event, a column per counter for
// totals and one for tick deltas; a field that does not apply is empty.
#include "cli/output/writer.hpp"

#include <string>

namespace pctx::cli {
namespace {

// Quoted when it holds a comma, a quote, CR or LF; quotes doubled.
std::string field(const std::string& s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"')
            q += '"';
        q += c;
    }
    return q + '"';
}

template <typename T> std::string opt(const std::optional<T>& v)
{
    return v ? std::to_string(*v) : std::string();
}

std::string value_of(const std::vector<CounterValue>& values, const std::string& name)
{
    for (const auto& v : values)
        if (v.name == name)
            return std::to_string(v.value);
    return {};
}

class CsvWriter final : public Writer {
public:
    CsvWriter(WriterConfig config, Sink& out) : config_(std::move(config)), out_(out)
    {
        if (!config_.header)
            return;
        std::string line =
            "time_ns,event,pid,tid,child_pid,args,args_truncated,status,signal,count,set,"
            "uncounted,followed,reconciled";
        for (const auto& name : config_.counters)
            line += "," + field(name);
        for (const auto& name : config_.counters)
            line += "," + field(name + ".delta");
        out_.write(line + "\r\n");
    }

    void write(const Row& row) override
    {
        // A probe's "provider:name" and arguments go where exec's argv does.
        const std::string args = row.args    ? join_args(*row.args)
                                 : row.probe ? probe_text(*row.probe)
                                             : std::string();
        std::string line = std::to_string(row.time_ns) + "," + field(row.event) + "," +
                           std::to_string(row.pid) + "," + std::to_string(row.tid) + "," +
                           opt(row.child_pid) + "," + field(args) + "," +
                           (row.args ? (row.args_truncated ? "true" : "false") : "") + "," +
                           opt(row.status) + "," + opt(row.signal) + "," + opt(row.count) + "," +
                           opt(row.set) + "," + (row.uncounted ? "true" : "") + "," +
                           (row.event == "fork" ? (row.unfollowed ? "false" : "true") : "") + "," +
                           (row.reconciled ? "true" : "");
        for (const auto& name : config_.counters)
            line += "," + value_of(row.counters, name);
        for (const auto& name : config_.counters)
            line += "," + value_of(row.deltas, name);
        out_.write(line + "\r\n");
    }

    void finish() override { out_.flush(); }

private:
    WriterConfig config_;
    Sink& out_;
};

} // namespace

std::unique_ptr<Writer> make_csv_writer(const WriterConfig& config, Sink& out)
{
    return std::make_unique<CsvWriter>(config, out);
}

} // namespace pctx::cli
