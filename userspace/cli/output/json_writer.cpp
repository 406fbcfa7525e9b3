// JSON lines: one object per event, the schema the README documents.
#include "cli/output/writer.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace pctx::cli {
namespace {

class JsonWriter final : public Writer {
public:
    explicit JsonWriter(std::FILE* out) : out_(out) {}

    void write(const Row& row) override
    {
        nlohmann::json j;
        j["event"] = row.event;
        j["pid"] = row.pid;
        j["tid"] = row.tid;
        j["time_ns"] = row.time_ns;
        if (row.child_pid)
            j["child_pid"] = *row.child_pid;
        if (row.args)
            j["args"] = *row.args;
        if (row.status)
            j["status"] = *row.status;
        if (row.signal)
            j["signal"] = *row.signal;
        if (row.count)
            j["count"] = *row.count;
        // Invalid UTF-8 in a command line must not abort the run.
        const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fwrite(line.data(), 1, line.size(), out_);
        std::fputc('\n', out_);
    }

    void finish() override { std::fflush(out_); }

private:
    std::FILE* out_;
};

} // namespace

std::unique_ptr<Writer> make_json_writer(std::FILE* out)
{
    return std::make_unique<JsonWriter>(out);
}

} // namespace pctx::cli
