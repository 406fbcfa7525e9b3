// `pctx-bpf doctor`: the environment checks as root, as nobody without
// capabilities, and as nobody with only CAP_BPF and CAP_PERFMON (what a
// container is granted), in both formats, with the exit status following.
#include "support/as_nobody.hpp"
#include "support/shell.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace {

// doctor --format json as nobody with caps: its exit status and its output.
std::pair<int, std::string> doctor_json(const std::vector<int>& caps)
{
    return testsupport::run_as_nobody({testsupport::cli_for_nobody(), "doctor", "--format", "json"},
                                      caps);
}

// The named check of a doctor document (nlohmann::json::parse throws, failing
// the test, when the output is not JSON).
const nlohmann::json& check(const nlohmann::json& doc, const std::string& name)
{
    for (const auto& c : doc.at("checks"))
        if (c.at("name") == name)
            return c;
    FAIL("no check named " << name << " in " << doc.dump());
    throw std::logic_error("unreachable");
}

int perf_event_paranoid()
{
    int value = 2;
    std::ifstream("/proc/sys/kernel/perf_event_paranoid") >> value;
    return value;
}

} // namespace

TEST_CASE("doctor as root: everything run needs is there", "[bpf][doctor]")
{
    const auto [status, out] = testsupport::shell(testsupport::cli() + " doctor --format json");
    INFO(out);
    const auto doc = nlohmann::json::parse(out);
    CHECK(doc.at("ready") == true);
    CHECK(status == 0);
    for (const auto& chk : doc.at("checks")) {
        INFO(chk.dump());
        if (chk.at("required") == true)
            CHECK(chk.at("status") == "ok");
        if (chk.at("name") != "PMU" && chk.at("name") != "cgroup v2" &&
            chk.at("name") != "kernel.perf_event_paranoid")
            CHECK(chk.at("status") == "ok");
    }
}

TEST_CASE("doctor as nobody without capabilities names each one missing",
          "[bpf][doctor][privileges]")
{
    const auto [status, out] = doctor_json({});
    INFO(out);
    const auto d = nlohmann::json::parse(out);
    CHECK(status == 1);
    CHECK(d.at("ready") == false);
    for (const char* cap : {"CAP_BPF", "CAP_PERFMON"}) {
        const auto& c = check(d, cap);
        CHECK(c.at("status") == "FAIL");
        CHECK(c.at("detail") == std::string("this process lacks ") + cap);
        CHECK(c.at("fix").get<std::string>().find("--cap-add BPF --cap-add PERFMON") !=
              std::string::npos);
        CHECK(c.at("fix").get<std::string>().find("setcap cap_bpf,cap_perfmon+ep") !=
              std::string::npos);
    }
    // Only probes need it: named, but not a failure.
    CHECK(check(d, "CAP_SYS_ADMIN").at("status") == "warn");

    const auto [text_status, text] =
        testsupport::run_as_nobody({testsupport::cli_for_nobody(), "doctor"}, {});
    INFO(text);
    CHECK(text_status == 1);
    CHECK(text.find("CAP_BPF ") != std::string::npos);
    CHECK(text.find("this process lacks CAP_PERFMON") != std::string::npos);
    CHECK(text.find("cannot work here") != std::string::npos);
}

// On Debian's kernels (5.10 among them) perf_event_paranoid defaults to 3,
// where perf events need CAP_SYS_ADMIN: doctor must name that sysctl as the
// reason, and only then.
TEST_CASE("doctor with CAP_BPF and CAP_PERFMON alone: ready, or names perf_event_paranoid",
          "[bpf][doctor][privileges]")
{
    const auto [status, out] = doctor_json({testsupport::kCapBpf, testsupport::kCapPerfmon});
    const int paranoid = perf_event_paranoid();
    INFO(out << "perf_event_paranoid " << paranoid);
    const auto d = nlohmann::json::parse(out);
    CHECK(check(d, "CAP_BPF").at("status") == "ok");
    CHECK(check(d, "CAP_PERFMON").at("status") == "ok");
    CHECK(check(d, "CAP_SYS_ADMIN").at("status") == "warn");
    CHECK(check(d, "ring buffer").at("status") == "ok");
    CHECK(check(d, "tp_btf").at("status") == "ok");
    CHECK(check(d, "seccomp").at("status") == "ok");
    const auto& p = check(d, "kernel.perf_event_paranoid");
    if (paranoid > 2) {
        CHECK(p.at("status") != "ok");
        CHECK(p.at("fix").get<std::string>().find("sysctl kernel.perf_event_paranoid=2") !=
              std::string::npos);
        // Ready exactly when this kernel let CAP_PERFMON count anyway.
        CHECK((status == 0) == (p.at("status") == "warn"));
    } else {
        CHECK(p.at("status") == "ok");
        CHECK(status == 0);
        CHECK(d.at("ready") == true);
        CHECK(check(d, "software counters").at("status") == "ok");
    }
}
