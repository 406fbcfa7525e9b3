#include "cli/run_config.hpp"

#include <algorithm>

namespace pctx::cli {

std::vector<std::string> CounterPlan::set_union() const
{
    std::vector<std::string> names;
    for (const auto& set : sets)
        for (const auto& name : set)
            if (std::find(names.begin(), names.end(), name) == names.end())
                names.push_back(name);
    return names;
}

std::vector<std::string> CounterPlan::all() const
{
    std::vector<std::string> names = set_union();
    if (tick && std::find(names.begin(), names.end(), *tick) == names.end())
        names.push_back(*tick);
    return names;
}

} // namespace pctx::cli
