#include "checks/capabilities.hpp"

#include <sys/capability.h>

namespace pctx::detail {

bool has_effective_capability(int cap)
{
    cap_t caps = cap_get_proc();
    if (!caps)
        return false;
    cap_flag_value_t value = CAP_CLEAR;
    const bool ok = cap_get_flag(caps, static_cast<cap_value_t>(cap), CAP_EFFECTIVE, &value) == 0;
    cap_free(caps);
    return ok && value == CAP_SET;
}

std::string missing_bpf_capabilities()
{
    if (has_effective_capability(CAP_SYS_ADMIN))
        return {};
    std::string missing;
    if (!has_effective_capability(kCapBpf))
        missing = "CAP_BPF";
    if (!has_effective_capability(kCapPerfmon))
        missing += missing.empty() ? "CAP_PERFMON" : " and CAP_PERFMON";
    return missing;
}

} // namespace pctx::detail
