// JSON lines: one object per event, the schema the man page documents.
#include "cli/output/escape.hpp"
#include "cli/output/writer.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace pctx::cli {
namespace {

nlohmann::json object_of(const std::vector<CounterValue>& values)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& v : values)
        j[v.name] = v.value;
    return j;
}

// Each argument's exact bytes in lowercase hex: JSON strings hold Unicode
// only, so invalid UTF-8 (shown as U+FFFD in args) is kept here.
nlohmann::json hex_of(const std::vector<std::string>& args)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    nlohmann::json j = nlohmann::json::array();
    for (const auto& a : args) {
        std::string hex;
        hex.reserve(a.size() * 2);
        for (const char c : a) {
            const auto b = static_cast<unsigned char>(c);
            hex += kDigits[b >> 4];
            hex += kDigits[b & 0xf];
        }
        j.push_back(std::move(hex));
    }
    return j;
}

bool all_valid_utf8(const std::vector<std::string>& args)
{
    for (const auto& a : args)
        if (!is_valid_utf8(a))
            return false;
    return true;
}

class JsonWriter final : public Writer {
public:
    explicit JsonWriter(Sink& out) : out_(out) {}

    void write(const Row& row) override
    {
        nlohmann::json j;
        j["event"] = row.event;
        j["pid"] = row.pid;
        j["tid"] = row.tid;
        j["time_ns"] = row.time_ns;
        if (row.child_pid)
            j["child_pid"] = *row.child_pid;
        if (row.args) {
            j["args"] = *row.args;
            if (!all_valid_utf8(*row.args))
                j["args_hex"] = hex_of(*row.args);
        }
        if (row.args_truncated)
            j["args_truncated"] = true;
        if (row.probe) {
            j["provider"] = row.probe->provider;
            j["name"] = row.probe->name;
            j["args"] = nlohmann::json::array();
            for (std::size_t i = 0; i < row.probe->args.size(); ++i) {
                if (row.probe->is_signed[i])
                    j["args"].push_back(row.probe->args[i]);
                else
                    j["args"].push_back(static_cast<std::uint64_t>(row.probe->args[i]));
            }
        }
        if (row.status)
            j["status"] = *row.status;
        if (row.signal)
            j["signal"] = *row.signal;
        if (row.count)
            j["count"] = *row.count;
        if (row.lost) {
            nlohmann::json kinds = nlohmann::json::object();
            for (const auto& [kind, n] : lost_by_kind(*row.lost))
                kinds[kind] = n;
            j["by_kind"] = kinds;
        }
        if (row.uncounted)
            j["uncounted"] = true;
        if (row.event == "fork")
            j["followed"] = !row.unfollowed;
        if (row.reconciled)
            j["reconciled"] = true;
        if (row.set)
            j["set"] = *row.set;
        if (!row.counters.empty())
            j["counters"] = object_of(row.counters);
        if (row.event == "tick" && !row.deltas.empty())
            j["deltas"] = object_of(row.deltas);
        // Invalid UTF-8 in args becomes U+FFFD there; args_hex keeps the bytes.
        std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        line += '\n';
        out_.write(line);
    }

    void finish() override { out_.flush(); }

private:
    Sink& out_;
};

} // namespace

std::unique_ptr<Writer> make_json_writer(Sink& out)
{
    return std::make_unique<JsonWriter>(out);
}

} // namespace pctx::cli
