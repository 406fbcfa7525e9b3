// pctx-bpf in a real container (crun, an OCI bundle built from this
// machine's files): all capabilities dropped but BPF and PERFMON, its own
// pid, mount and cgroup namespaces. Host only: vmtests have no crun.
#include "support/oci_bundle.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using testsupport::ContainerSpec;
using testsupport::OciBundle;

namespace {

const std::vector<std::string> kTraced = {
    "/bin/pctx-bpf", "run",      "-q",   "-f", "-T", "0",  "-c",
    "cpu-clock",     "--format", "json", "--", "sh", "-c", "(sleep 0.1); exit 4"};

bool contains(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

} // namespace

TEST_CASE("in a container with CAP_BPF and CAP_PERFMON: the container's pids and counters",
          "[hostonly][bpf][container]")
{
    OciBundle bundle;
    const auto [status, out] = bundle.run({kTraced});
    INFO(out);
    CHECK(status == 4);
    const auto lines = testsupport::json_lines(out);
    REQUIRE(!lines.empty());
    pid_t sh = 0;
    bool forked = false, counted = false;
    for (const auto& line : lines) {
        const auto e = nlohmann::json::parse(line);
        // As the container sees them: pctx-bpf is its pid 1, the rest follow.
        CHECK(e.at("pid").get<int>() > 1);
        CHECK(e.at("pid").get<int>() < 20);
        if (e.at("event") == "exec" && e.at("args").at(0) == "sh")
            sh = e.at("pid").get<pid_t>();
        if (e.at("event") == "fork")
            forked = e.at("child_pid").get<int>() < 20;
        if (e.at("event") == "exit" && e.at("pid").get<pid_t>() == sh) {
            CHECK(e.at("status") == 4);
            counted = e.at("counters").at("cpu-clock").get<std::uint64_t>() > 0;
        }
    }
    CHECK(sh > 1);
    CHECK(forked);
    CHECK(counted);
}

TEST_CASE("in a container without CAP_PERFMON: refused, naming it, before loading",
          "[hostonly][bpf][container]")
{
    OciBundle bundle;
    ContainerSpec spec{kTraced, {"CAP_BPF"}};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        CHECK(contains(out, "CAP_PERFMON"));
        CHECK(testsupport::json_lines(out).empty());
    }
    // Without counters the session's own check speaks, before any load.
    spec.args = {"/bin/pctx-bpf", "run", "-q", "--", "true"};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        CHECK(contains(out, "cannot load BPF programs: this process lacks CAP_PERFMON"));
        CHECK(contains(out, "--cap-add BPF --cap-add PERFMON"));
    }
    spec.args = {"/bin/pctx-bpf", "doctor"};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        CHECK(contains(out, "this process lacks CAP_PERFMON"));
        CHECK(!contains(out, "this process lacks CAP_BPF"));
    }
    spec.caps = {"CAP_BPF", "CAP_PERFMON"};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 0);
    }
}

TEST_CASE("in a container whose seccomp profile refuses bpf: the message names seccomp",
          "[hostonly][bpf][container]")
{
    OciBundle bundle;
    ContainerSpec spec{kTraced};
    spec.seccomp_refuses_bpf = true;
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        CHECK(contains(out, "a seccomp filter refuses perf_event_open"));
        CHECK(contains(out, "--security-opt seccomp="));
    }
    spec.args = {"/bin/pctx-bpf", "run", "-q", "--", "true"};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        CHECK(contains(out, "a seccomp filter refuses bpf and perf_event_open"));
        CHECK(!contains(out, "lacks CAP_"));
    }
    spec.args = {"/bin/pctx-bpf", "doctor", "--format", "json"};
    {
        const auto [status, out] = bundle.run(spec);
        INFO(out);
        CHECK(status == 1);
        const auto doc = nlohmann::json::parse(out);
        for (const auto& c : doc.at("checks"))
            if (c.at("name") == "seccomp")
                CHECK(c.at("status") == "FAIL");
    }
}
