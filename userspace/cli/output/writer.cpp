#include "cli/output/writer.hpp"

namespace pctx::cli {

std::unique_ptr<Writer> make_text_writer(const WriterConfig& config, std::FILE* out);
std::unique_ptr<Writer> make_json_writer(std::FILE* out);

std::unique_ptr<Writer> make_writer(const WriterConfig& config, std::FILE* out)
{
    switch (config.format) {
    case Format::Json:
        return make_json_writer(out);
    case Format::Text:
        break;
    }
    return make_text_writer(config, out);
}

} // namespace pctx::cli
