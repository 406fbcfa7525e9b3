#include "cli/doctor_command.hpp"

#include "pctx/checks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace pctx::cli {
namespace {

std::string as_json(const std::vector<Check>& checks, bool ready)
{
    nlohmann::json doc;
    doc["ready"] = ready;
    doc["checks"] = nlohmann::json::array();
    for (const auto& c : checks)
        doc["checks"].push_back({{"name", c.name},
                                 {"status", status_name(c.status)},
                                 {"required", c.required},
                                 {"detail", c.detail},
                                 {"fix", c.fix}});
    return doc.dump(2) + "\n";
}

std::string as_table(const std::vector<Check>& checks, bool ready)
{
    std::size_t width = 5;
    for (const auto& c : checks)
        width = std::max(width, c.name.size());
    auto pad = [](std::string s, std::size_t w) {
        return s.append(w - std::min(w, s.size()), ' ');
    };
    std::string text = pad("CHECK", width) + "  " + pad("STATUS", 7) + "  DETAIL\n";
    for (const auto& c : checks) {
        text += pad(c.name, width) + "  " + pad(status_name(c.status), 7) + "  " + c.detail + "\n";
        if (c.status != CheckStatus::Ok && !c.fix.empty())
            text += pad("", width) + "  " + pad("", 7) + "  fix: " + c.fix + "\n";
    }
    text += ready ? "\npctx-bpf run can work here.\n"
                  : "\npctx-bpf run cannot work here: fix the FAIL lines above.\n";
    return text;
}

} // namespace

int doctor_command(const std::string& format, std::FILE* out)
{
    const std::vector<Check> checks = check_environment();
    const bool ready = environment_ready(checks);
    const std::string text = format == "json" ? as_json(checks, ready) : as_table(checks, ready);
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
        return 1;
    return ready ? 0 : 1;
}

} // namespace pctx::cli
