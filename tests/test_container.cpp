// pctx-bpf in a real container (crun, an OCI bundle built from this
// machine's files): all capabilities dropped but BPF and PERFMON, its own
// pid, mount and cgroup namespaces. Host only: vmtests have no crun.
#include "support/oci_bundle.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
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

// A sibling pid namespace numbers its processes from 1 too: a tracer that
// matched ids without their namespace would report the sibling's. Its
// processes, forking and execing all along, never appear, even with -f or -a.
TEST_CASE("a busy process in a sibling pid namespace never appears in a container's trace, even "
          "with -a",
          "[hostonly][bpf][container]")
{
    const std::string loop = "i=0; while :; do /bin/busybox true sibling-marker; i=$((i+1)); "
                             "[ $((i % 20)) = 0 ] && echo $i; done";
    testsupport::Child sibling(
        {"/usr/bin/unshare", "-p", "-f", "--kill-child", "--", "/bin/busybox", "sh", "-c", loop});
    REQUIRE(!sibling.read_line().empty()); // forking already

    OciBundle bundle;
    const auto [status, out] =
        bundle.run({{"/bin/pctx-bpf", "run", "-q", "-f", "-T", "0", "--format", "json", "--", "sh",
                     "-c", "i=0; while [ $i -lt 20 ]; do (true); i=$((i+1)); done"}});
    REQUIRE(!sibling.read_line().empty()); // and still forking
    INFO(out);
    CHECK(status == 0);
    CHECK(!contains(out, "sibling-marker"));
    std::set<int> ours;
    int forks = 0;
    for (const auto& line : testsupport::json_lines(out)) {
        const auto e = nlohmann::json::parse(line);
        if (ours.empty())
            ours.insert(e.at("pid").get<int>()); // the command itself comes first
        CHECK(ours.count(e.at("pid").get<int>()) == 1);
        if (e.at("event") == "fork") {
            ++forks;
            ours.insert(e.at("child_pid").get<int>());
        }
    }
    CHECK(forks == 20);

    // The whole machine as the container sees it: still not the sibling.
    const auto [all_status, all_out] =
        bundle.run({{"/bin/pctx-bpf", "run", "-q", "-a", "-T", "0", "--format", "json", "--", "sh",
                     "-c", "i=0; while [ $i -lt 20 ]; do (true); i=$((i+1)); done"}});
    REQUIRE(!sibling.read_line().empty());
    INFO("-a: " << all_out);
    CHECK(all_status == 0);
    CHECK(!contains(all_out, "sibling-marker"));
    int all_forks = 0;
    for (const auto& line : testsupport::json_lines(all_out)) {
        const auto e = nlohmann::json::parse(line);
        CHECK(e.at("pid").get<int>() < 100); // the container's own few pids
        all_forks += e.at("event") == "fork";
    }
    CHECK(all_forks >= 20);
}

TEST_CASE("in a container, -p takes the container's pid and reports it so",
          "[hostonly][bpf][container]")
{
    OciBundle bundle;
    const auto [status, out] = bundle.run(
        {{"/bin/sh", "-c",
          "sleep 0.3 & echo target $!; exec /bin/pctx-bpf run -q -T 0 --format json -p $!"}});
    INFO(out);
    CHECK(status == 0);
    const auto at = out.find("target ");
    REQUIRE(at != std::string::npos);
    const int target = std::stoi(out.substr(at + 7));
    CHECK(target < 20);
    bool exited = false;
    for (const auto& line : testsupport::json_lines(out)) {
        const auto e = nlohmann::json::parse(line);
        CHECK(e.at("pid") == target);
        exited = exited || e.at("event") == "exit";
    }
    CHECK(exited);
}
