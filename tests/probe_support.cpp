#include "probe_support.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace probetest {

unsigned id_of(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name)
{
    for (const auto& p : ctl.probes())
        if (p.provider == provider && p.name == name)
            return p.id;
    FAIL("no probe " << provider << ":" << name);
    return 0;
}

bool has_probe(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name)
{
    for (const auto& p : ctl.probes())
        if (p.provider == provider && p.name == name)
            return true;
    return false;
}

Hits::Hits(pctx::ProbeControl& ctl) : ctl_(ctl)
{
    ctl_.on_hit([this](const pctx::ProbeHit& h) {
        hits_.push_back({h.probe->provider + ":" + h.probe->name, h.pid, h.tid, h.args});
    });
}

std::size_t Hits::count(const std::string& probe) const
{
    std::size_t n = 0;
    for (const auto& h : hits_)
        n += h.probe == probe ? 1 : 0;
    return n;
}

std::vector<Hit> Hits::wait_for(const std::string& probe, std::size_t n)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count(probe) < n && std::chrono::steady_clock::now() < deadline)
        ctl_.poll(100);
    ctl_.poll(0);
    std::vector<Hit> out;
    for (const auto& h : hits_)
        if (h.probe == probe)
            out.push_back(h);
    return out;
}

SdtTarget::SdtTarget() : child_({testsupport::target("sdt_probes")})
{
    REQUIRE(child_.read_line() == "ready");
}

std::string SdtTarget::command(const std::string& cmd)
{
    child_.send(cmd + "\n");
    return child_.read_line();
}

unsigned highest_program_id()
{
    __u32 id = 0;
    while (bpf_prog_get_next_id(id, &id) == 0) {
    }
    return id;
}

std::vector<unsigned> usdt_program_ids()
{
    std::vector<unsigned> ids;
    for (__u32 id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
        const int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0)
            continue;
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::string(info.name) == "on_probe")
            ids.push_back(id);
        ::close(fd);
    }
    return ids;
}

bool usdt_programs_gone_above(unsigned floor)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        bool any = false;
        for (const unsigned id : usdt_program_ids())
            any = any || id > floor;
        if (!any)
            return true;
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        // The kernel frees a program an RCU grace period after its last
        // reference: nothing to wait on but time.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace probetest
