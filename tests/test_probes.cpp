// Probe control of another process (libtnfctl on USDT), through the C++ API:
// listing, hits with exact arguments, semaphores, dlopen'ed libraries, two
// handles on one target, and the errors.
#include "probe_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using probetest::Hits;
using probetest::id_of;
using probetest::SdtTarget;

namespace {

std::int64_t s(const pctx::ProbeValue& v)
{
    CHECK(v.is_signed);
    return v.value;
}

std::uint64_t u(const pctx::ProbeValue& v)
{
    CHECK_FALSE(v.is_signed);
    return v.as_unsigned();
}

} // namespace

TEST_CASE("Every probe of a target is listed with provider, name and arguments", "[probes]")
{
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    const std::map<std::string, std::size_t> expected = {
        {"zero", 0}, {"one", 1}, {"three", 3}, {"six", 6}, {"twelve", 12}, {"guarded", 1}};
    for (const auto& [name, nargs] : expected) {
        const auto& p = ctl.probe(id_of(ctl, "pctxtest", name));
        CHECK(p.object == testsupport::target("sdt_probes"));
        CHECK(p.args.size() == nargs);
        CHECK(p.addresses.size() == 1);
        CHECK_FALSE(p.enabled);
        CHECK((p.semaphore != 0) == (name == "guarded"));
    }
    const auto& six = ctl.probe(id_of(ctl, "pctxtest", "six"));
    const std::vector<std::string> types = {"int8", "uint16", "int32", "uint32", "int64", "uint64"};
    for (std::size_t i = 0; i < types.size(); ++i)
        CHECK(six.args[i].type == types[i]);
    CHECK_FALSE(probetest::has_probe(ctl, "pctxlib", "libfire"));
}

TEST_CASE("A probe fired N times is seen N times with its exact arguments", "[probes][bpf]")
{
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    Hits hits(ctl);
    for (const char* name : {"zero", "one", "three", "six", "twelve"})
        ctl.enable(id_of(ctl, "pctxtest", name));
    constexpr int kN = 5;
    REQUIRE(target.command("f " + std::to_string(kN)) == "fired");
    const auto zero = hits.wait_for("pctxtest:zero", kN);
    const auto one = hits.wait_for("pctxtest:one", kN);
    const auto three = hits.wait_for("pctxtest:three", kN);
    const auto six = hits.wait_for("pctxtest:six", kN);
    const auto twelve = hits.wait_for("pctxtest:twelve", kN);
    REQUIRE(zero.size() == kN);
    REQUIRE(one.size() == kN);
    REQUIRE(three.size() == kN);
    REQUIRE(six.size() == kN);
    REQUIRE(twelve.size() == kN);
    for (int k = 1; k <= kN; ++k) {
        INFO("k = " << k);
        const auto i = static_cast<std::size_t>(k - 1);
        CHECK(zero[i].args.empty());
        CHECK(zero[i].pid == target.pid());
        CHECK(zero[i].tid == target.pid());
        REQUIRE(one[i].args.size() == 1);
        CHECK(s(one[i].args[0]) == -100000LL * k);
        REQUIRE(three[i].args.size() == 3);
        CHECK(u(three[i].args[0]) == 200U + k);
        CHECK(s(three[i].args[1]) == -300LL * k);
        CHECK(s(three[i].args[2]) == -1234567890123LL * k);
        const auto& a = six[i].args;
        REQUIRE(a.size() == 6);
        CHECK(s(a[0]) == -k);
        CHECK(u(a[1]) == 65535U - k);
        CHECK(s(a[2]) == -100000LL * k);
        CHECK(u(a[3]) == 4000000000ULL + k);
        CHECK(s(a[4]) == -1234567890123LL * k);
        CHECK(u(a[5]) == 18000000000000000000ULL + k);
        const auto& t = twelve[i].args;
        REQUIRE(t.size() == 12);
        CHECK(s(t[0]) == -k);
        CHECK(u(t[1]) == 200U + k);
        CHECK(s(t[2]) == -300LL * k);
        CHECK(u(t[3]) == 65535U - k);
        CHECK(s(t[4]) == -100000LL * k);
        CHECK(u(t[5]) == 4000000000ULL + k);
        CHECK(s(t[6]) == -1234567890123LL * k);
        CHECK(u(t[7]) == 18000000000000000000ULL + k);
        CHECK(s(t[8]) == k);
        CHECK(s(t[9]) == -7);
        CHECK(s(t[10]) == 1000LL * k);
        CHECK(u(t[11]) == 255U);
    }
    CHECK(ctl.lost() == 0);
}

TEST_CASE("A semaphore is raised only while its probe is enabled", "[probes][bpf]")
{
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    Hits hits(ctl);
    const unsigned guarded = id_of(ctl, "pctxtest", "guarded");
    CHECK(ctl.semaphore_value(guarded) == 0);
    CHECK(target.command("s") == "sem 0");
    ctl.enable(guarded);
    CHECK(ctl.semaphore_value(guarded) != 0);
    CHECK(target.command("s") != "sem 0");
    REQUIRE(target.command("f 3") == "fired");
    const auto seen = hits.wait_for("pctxtest:guarded", 3);
    REQUIRE(seen.size() == 3);
    CHECK(s(seen[2].args[0]) == 3);
    ctl.disable(guarded);
    CHECK(ctl.semaphore_value(guarded) == 0);
    CHECK(target.command("s") == "sem 0");
}

TEST_CASE("A dlopen'ed library's probes appear after check_libs, fire, and go at dlclose",
          "[probes][bpf]")
{
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    Hits hits(ctl);
    CHECK_FALSE(ctl.check_libs());
    REQUIRE(target.command("o") == "opened");
    CHECK(ctl.check_libs());
    const unsigned lib = id_of(ctl, "pctxlib", "libfire");
    CHECK(ctl.probe(lib).object == testsupport::target("libsdt_lib.so"));
    ctl.enable(lib);
    REQUIRE(target.command("l 4") == "lfired");
    const auto seen = hits.wait_for("pctxlib:libfire", 4);
    REQUIRE(seen.size() == 4);
    for (int k = 1; k <= 4; ++k) {
        CHECK(s(seen[static_cast<std::size_t>(k - 1)].args[0]) == k);
        CHECK(s(seen[static_cast<std::size_t>(k - 1)].args[1]) == -k);
    }
    REQUIRE(target.command("c") == "closed");
    CHECK(ctl.check_libs());
    CHECK_FALSE(probetest::has_probe(ctl, "pctxlib", "libfire"));
    CHECK(probetest::has_probe(ctl, "pctxtest", "one"));
}

TEST_CASE("Two handles on one target both work; closing one leaves the other firing",
          "[probes][bpf]")
{
    SdtTarget target;
    auto first = std::make_unique<pctx::ProbeControl>(pctx::ProbeControl::open_pid(target.pid()));
    auto second = pctx::ProbeControl::open_pid(target.pid());
    Hits hits1(*first);
    Hits hits2(second);
    first->enable(id_of(*first, "pctxtest", "guarded"));
    second.enable(id_of(second, "pctxtest", "guarded"));
    REQUIRE(target.command("f 2") == "fired");
    CHECK(hits1.wait_for("pctxtest:guarded", 2).size() == 2);
    CHECK(hits2.wait_for("pctxtest:guarded", 2).size() == 2);
    first.reset();
    CHECK(target.command("s") != "sem 0");
    REQUIRE(target.command("f 3") == "fired");
    CHECK(hits2.wait_for("pctxtest:guarded", 5).size() == 5);
    second.disable(id_of(second, "pctxtest", "guarded"));
    CHECK(target.command("s") == "sem 0");
}

TEST_CASE("Probe errors: no such process, no probes, unknown id", "[probes]")
{
    try {
        (void)pctx::ProbeControl::open_pid(999999999);
        FAIL("opened a nonexistent pid");
    } catch (const pctx::ProbeError& e) {
        CHECK(e.code() == pctx::ProbeErrc::BadPid);
        CHECK(std::string(e.what()).find("no process 999999999") != std::string::npos);
    }
    testsupport::Child bare({testsupport::target("no_probes")});
    REQUIRE(bare.read_line() == "ready");
    try {
        (void)pctx::ProbeControl::open_pid(bare.pid());
        FAIL("opened a target without probes");
    } catch (const pctx::ProbeError& e) {
        CHECK(e.code() == pctx::ProbeErrc::NoProbes);
        CHECK(std::string(e.what()).find("has no USDT probes") != std::string::npos);
    }
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    CHECK_THROWS_AS(ctl.enable(12345), pctx::ProbeError);
}

TEST_CASE("Closing a handle detaches its program", "[probes][bpf]")
{
    SdtTarget target;
    std::vector<unsigned> ours;
    {
        auto ctl = pctx::ProbeControl::open_pid(target.pid());
        ctl.enable(id_of(ctl, "pctxtest", "guarded"));
        CHECK(target.command("s") != "sem 0");
        ours = probetest::own_usdt_programs();
        CHECK(ours.size() == 1);
    }
    CHECK(probetest::own_usdt_programs().empty());
    CHECK(target.command("s") == "sem 0");
    CHECK(probetest::programs_gone(ours));
}

TEST_CASE("Hits the buffer has no room for are counted as lost", "[probes][bpf]")
{
    SdtTarget target;
    auto ctl = pctx::ProbeControl::open_pid(target.pid());
    std::size_t delivered = 0;
    ctl.on_hit([&](const pctx::ProbeHit&) { ++delivered; });
    for (const char* name : {"zero", "one", "three", "six", "twelve"})
        ctl.enable(id_of(ctl, "pctxtest", name));
    // 5 x 8000 records of 128 bytes: more than the 2 MiB buffer holds, and
    // nobody reads until the target is done.
    REQUIRE(target.command("f 8000") == "fired");
    while (ctl.poll(0) > 0) {
    }
    CHECK(ctl.lost() > 0);
    CHECK(delivered + ctl.lost() == 40000);
}
