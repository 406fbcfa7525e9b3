#include "cli/list_command.hpp"

#include "cli/event_catalog.hpp"
#include "pctx/pctx.hpp"

#include <string>

namespace pctx::cli {

int list_command(std::FILE* out)
{
    const std::string text = full_listing(list_events());
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
        return 1;
    return 0;
}

} // namespace pctx::cli
