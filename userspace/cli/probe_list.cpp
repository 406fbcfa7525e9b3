// "pctx-bpf probe list": every probe as bcc's tplist -v shows it, or as
// one JSON object a line.
#include "cli/probe_command.hpp"

#include <pctx/probes.hpp>

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>

namespace pctx::cli {

namespace {

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return buf;
}

void print_text(const std::vector<ProbeInfo>& probes)
{
    for (const auto& p : probes) {
        std::printf("%s %s:%s", p.object.c_str(), p.provider.c_str(), p.name.c_str());
        if (p.semaphore != 0)
            std::printf(" [sema %s]", hex(p.semaphore).c_str());
        std::printf("\n");
        for (std::size_t i = 0; i < p.addresses.size(); ++i) {
            std::printf("  location #%zu %s %s\n", i + 1, p.object.c_str(),
                        hex(p.addresses[i]).c_str());
            for (std::size_t a = 0; a < p.args.size(); ++a) {
                // "int32" / "uint8": sign, then bits.
                const auto& arg = p.args[a];
                const bool is_signed = arg.type[0] == 'i';
                const int bytes = std::stoi(arg.type.substr(is_signed ? 3 : 4)) / 8;
                const auto at = arg.spec.find('@');
                std::printf("    argument #%zu %d %s bytes @ %s\n", a + 1, bytes,
                            is_signed ? "signed" : "unsigned", arg.spec.substr(at + 1).c_str());
            }
        }
    }
}

void print_json(const std::vector<ProbeInfo>& probes)
{
    for (const auto& p : probes) {
        nlohmann::json j;
        j["provider"] = p.provider;
        j["name"] = p.name;
        j["object"] = p.object;
        j["addresses"] = p.addresses;
        j["semaphore"] = p.semaphore;
        j["args"] = nlohmann::json::array();
        for (const auto& a : p.args)
            j["args"].push_back({{"type", a.type}, {"spec", a.spec}});
        std::printf("%s\n",
                    j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
}

} // namespace

int probe_list(const ProbeListOptions& options)
{
    std::vector<ProbeInfo> probes;
    try {
        if (options.pid != 0) {
            probes = ProbeControl::open_pid(options.pid).probes();
        } else {
            for (const auto& binary : options.binaries) {
                auto some = ProbeControl::list_file(binary);
                probes.insert(probes.end(), some.begin(), some.end());
            }
        }
    } catch (const ProbeError& e) {
        std::fprintf(stderr, "pctx-bpf probe list: %s\n", e.what());
        return 1;
    }
    if (options.format == "json")
        print_json(probes);
    else
        print_text(probes);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

} // namespace pctx::cli
