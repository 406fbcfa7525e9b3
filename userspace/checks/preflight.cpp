#include "checks/preflight.hpp"

#include "pctx/checks.hpp"
#include "pctx/pctx.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace pctx::detail {

void require_environment(const char* fn)
{
    CheckOptions options;
    options.counters = false; // a session opens its counters itself, explaining failures
    options.pmu = false;
    std::string capabilities; // "CAP_BPF and CAP_PERFMON": one sentence for all
    std::vector<std::string> problems;
    std::vector<std::string> fixes;
    for (const Check& c : check_environment(options)) {
        if (!c.required || c.status != CheckStatus::Fail || c.name == "BTF")
            continue;
        if (c.name.rfind("CAP_", 0) == 0)
            capabilities += (capabilities.empty() ? "" : " and ") + c.name;
        else
            problems.push_back(c.detail);
        if (std::find(fixes.begin(), fixes.end(), c.fix) == fixes.end())
            fixes.push_back(c.fix);
    }
    if (!capabilities.empty())
        problems.insert(problems.begin(), "this process lacks " + capabilities);
    if (problems.empty())
        return;
    std::string message = "cannot load BPF programs: ";
    for (std::size_t i = 0; i < problems.size(); ++i)
        message += (i ? "; " : "") + problems[i];
    message += ". To fix: ";
    for (std::size_t i = 0; i < fixes.size(); ++i)
        message += (i ? "; " : "") + fixes[i];
    throw Error(fn, message);
}

} // namespace pctx::detail
