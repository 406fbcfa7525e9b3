// The clock every event time is on: CLOCK_MONOTONIC in ns, the clock BPF's
// bpf_ktime_get_ns() reads.
#pragma once

#include <time.h>

#include <cstdint>

namespace pctx::detail {

inline std::uint64_t monotonic_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

} // namespace pctx::detail
