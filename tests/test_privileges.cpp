// What a container granted only CAP_BPF and CAP_PERFMON can do: trace a
// command of its own, counters included, as an unprivileged user.
#include "support/as_nobody.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace {

std::pair<int, std::string> run_with_bpf_caps(const std::vector<std::string>& argv)
{
    return testsupport::run_as_nobody(argv, {testsupport::kCapBpf, testsupport::kCapPerfmon});
}

using testsupport::cli_for_nobody;

} // namespace

TEST_CASE("CAP_BPF and CAP_PERFMON alone trace a command", "[bpf][privileges]")
{
    const auto [status, out] =
        run_with_bpf_caps({cli_for_nobody(), "run", "-q", "-f", "-T", "0", "--format", "json", "--",
                           "/bin/sh", "-c", "/bin/true; exit 2"});
    INFO(out);
    CHECK(status == 2);
    CHECK(out.find("\"event\":\"fork\"") != std::string::npos);
    CHECK(out.find("\"args\":[\"/bin/true\"]") != std::string::npos);
}

TEST_CASE("CAP_BPF and CAP_PERFMON alone count, or say which sysctl stops them",
          "[bpf][privileges][counters]")
{
    int paranoid = 2;
    std::ifstream("/proc/sys/kernel/perf_event_paranoid") >> paranoid;
    const auto [status, out] =
        run_with_bpf_caps({cli_for_nobody(), "run", "-q", "-T", "0", "-c", "cpu-clock,page-faults",
                           "--format", "json", "--", "/bin/true"});
    INFO(out << "perf_event_paranoid " << paranoid);
    if (status == 0) {
        CHECK(out.find("\"page-faults\":") != std::string::npos);
        return;
    }
    // Debian's kernels at paranoid 3 keep perf events to CAP_SYS_ADMIN.
    REQUIRE(paranoid > 2);
    CHECK(status == 1);
    CHECK(out.find("kernel.perf_event_paranoid is " + std::to_string(paranoid)) !=
          std::string::npos);
    CHECK(out.find("sysctl kernel.perf_event_paranoid=2") != std::string::npos);
}
