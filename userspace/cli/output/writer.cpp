#include "cli/output/writer.hpp"

#include <algorithm>

namespace pctx::cli {

std::unique_ptr<Writer> make_text_writer(const WriterConfig& config, Sink& out);
std::unique_ptr<Writer> make_json_writer(Sink& out);
std::unique_ptr<Writer> make_csv_writer(const WriterConfig& config, Sink& out);
std::unique_ptr<Writer> make_chrome_writer(Sink& out);

int counter_width(const std::string& name)
{
    return std::max(12, static_cast<int>(name.size()));
}

std::string probe_text(const ProbeEvent& hit)
{
    std::string text = hit.provider + ":" + hit.name;
    for (std::size_t i = 0; i < hit.args.size(); ++i)
        text += " " + (hit.is_signed[i] ? std::to_string(hit.args[i])
                                        : std::to_string(static_cast<std::uint64_t>(hit.args[i])));
    return text;
}

std::vector<std::pair<const char*, std::uint64_t>> lost_by_kind(const LostCounts& lost)
{
    return {{"fork", lost.fork},
            {"lwp_create", lost.lwp_create},
            {"exec", lost.exec},
            {"exit", lost.exit},
            {"lwp_exit", lost.lwp_exit},
            {"tracked_full", lost.tracked_full},
            {"threads_full", lost.threads_full},
            {"probe_hits", lost.probe_hits}};
}

std::unique_ptr<Writer> make_writer(const WriterConfig& config, Sink& out)
{
    switch (config.format) {
    case Format::Json:
        return make_json_writer(out);
    case Format::Csv:
        return make_csv_writer(config, out);
    case Format::Chrome:
        return make_chrome_writer(out);
    case Format::Text:
        break;
    }
    return make_text_writer(config, out);
}

} // namespace pctx::cli
