#include "cli/event_catalog.hpp"

namespace pctx::cli {
namespace {

const EventInfo* find_event(const std::vector<EventInfo>& events, const std::string& name)
{
    for (const auto& e : events)
        if (e.name == name)
            return &e;
    return nullptr;
}

std::string wrapped(const std::vector<std::string>& words, const std::string& indent)
{
    std::string out, line = indent;
    for (const auto& w : words) {
        if (line.size() > indent.size() && line.size() + w.size() + 1 > 78) {
            out += line + "\n";
            line = indent;
        }
        line += (line.size() > indent.size() ? " " : "") + w;
    }
    if (line.size() > indent.size())
        out += line + "\n";
    return out;
}

const char* const kRawAndModifiers =
    "Raw events: rNNNN, the PMU's own event code in hex (as perf stat -e rNNNN).\n"
    "Modifiers: NAME:u counts in user mode only, NAME:k in the kernel only.\n";

} // namespace

std::string tick_counter(const std::vector<EventInfo>& events)
{
    const EventInfo* cycles = find_event(events, "cycles");
    return cycles && cycles->available ? "cycles" : "task-clock";
}

std::string countable_summary(const std::vector<EventInfo>& events)
{
    std::string out;
    for (const char* kind : {"software", "hardware"}) {
        std::vector<std::string> names;
        for (const auto& e : events)
            if (e.kind == kind && e.available)
                names.push_back(e.name);
        out += std::string("  ") + kind + ":" + (names.empty() ? " none\n" : "\n");
        out += wrapped(names, "    ");
    }
    return out + kRawAndModifiers;
}

std::string full_listing(const std::vector<EventInfo>& events)
{
    std::string out;
    for (const char* kind : {"software", "hardware"}) {
        out += std::string(kind) + " events:\n";
        bool any = false;
        for (const auto& e : events) {
            if (e.kind != kind)
                continue;
            any = true;
            std::string line = "  " + e.name;
            line.append(line.size() < 28 ? 28 - line.size() : 1, ' ');
            line += e.available ? "available" : "not available";
            if (!e.available && !e.reason.empty())
                line += ": " + e.reason;
            out += line + "\n";
        }
        if (!any)
            out += "  (none known)\n";
    }
    return out + kRawAndModifiers;
}

} // namespace pctx::cli
