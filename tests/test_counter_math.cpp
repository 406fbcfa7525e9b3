// The counter arithmetic BPF and userspace share (bpf/counter_math.h), run
// here on known numbers.
#include "counter_math.h"

#include <catch2/catch.hpp>

#include <cstdint>

TEST_CASE("estimates for hidden runtime never compound", "[counters][math]")
{
    // A thread counting 1000 events per ms: each slice, 1 ms is read and
    // 1 ms more was run in switches the kernel did not report. Its total
    // must stay twice what was read: the rate comes from readings alone.
    __u64 total = 0, observed = 0, observed_rt = 0;
    for (int i = 0; i < 100; ++i) {
        pctx_end_slice(&total, &observed, 1000, i == 0 ? 0 : 1'000'000, observed_rt);
        observed_rt += 1'000'000;
    }
    CHECK(observed == 100'000);
    CHECK(total == 100'000 + 99'000);
}

TEST_CASE("hidden runtime longer than all observed runtime is not extrapolated", "[counters][math]")
{
    __u64 total = 0, observed = 0;
    pctx_end_slice(&total, &observed, 500, 5'000'000, 1'000'000);
    CHECK(total == 500);
    CHECK(observed == 500);
}

TEST_CASE("a*b/c keeps precision for large values", "[counters][math]")
{
    CHECK(pctx_mul_div(1'000'000'007ULL, 3, 7) == 1'000'000'007ULL * 3 / 7);
    // The remainder's share keeps 23 significant bits (see counter_math.h).
    const double half = static_cast<double>(pctx_mul_div(123456789012ULL, 1ULL << 30, 1ULL << 31));
    CHECK(half == Approx(123456789012.0 / 2).epsilon(1e-6));
    CHECK(pctx_scale(100, 200, 100) == 200);
    CHECK(pctx_scale(100, 0, 0) == 0);
}
