#include "cli/output/writer.hpp"

namespace pctx::cli {

std::unique_ptr<Writer> make_text_writer(const WriterConfig& config, Sink& out);
std::unique_ptr<Writer> make_json_writer(Sink& out);
std::unique_ptr<Writer> make_csv_writer(const WriterConfig& config, Sink& out);
std::unique_ptr<Writer> make_chrome_writer(Sink& out);

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
