#include "cli/event_catalog.hpp"

#include <algorithm>
#include <cctype>

namespace pctx::cli {
namespace {

bool is_raw(const std::string& name)
{
    return name.size() >= 2 && name.size() <= 17 && name[0] == 'r' &&
           std::all_of(name.begin() + 1, name.end(),
                       [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string trimmed(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos)
        return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

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

// Why an event cannot be counted, in a sentence that names it.
std::string because(const EventInfo& e)
{
    std::string lead = "event '" + e.name + "' cannot be counted here";
    return e.reason.empty() ? lead : lead + ": " + e.reason;
}

std::string bad_modifier(const std::string& mods, const std::string& name)
{
    return "-c: unknown modifier ':" + mods + "' in '" + name +
           "' (use :u for user mode, :k for the kernel)";
}

std::string unknown(const std::string& name)
{
    return "-c: unknown event '" + name +
           "' (run 'pctx-bpf list' for the events this machine can count)";
}

std::string twice(const std::string& name, const std::string& spec)
{
    return "-c: event '" + name + "' is twice in '" + spec + "'";
}

} // namespace

SetCheck check_counter_set(const std::string& spec, const std::vector<EventInfo>& events)
{
    SetCheck check;
    std::string::size_type start = 0;
    for (;;) {
        const auto comma = spec.find(',', start);
        const std::string name = trimmed(spec.substr(start, comma - start));
        if (name.empty()) {
            check.error = "-c: empty event name in '" + spec + "'";
            return check;
        }
        const auto colon = name.find(':');
        const std::string base = name.substr(0, colon);
        const std::string mods = colon == std::string::npos ? "" : name.substr(colon + 1);
        if (colon != std::string::npos && mods != "u" && mods != "k" && mods != "uk" &&
            mods != "ku") {
            check.error = bad_modifier(mods, name);
            return check;
        }
        const EventInfo* known = find_event(events, base);
        if (!known && !is_raw(base)) {
            check.error = unknown(base);
            return check;
        }
        if (known && !known->available) {
            check.error = because(*known);
            check.usage = false;
            return check;
        }
        if (std::find(check.names.begin(), check.names.end(), name) != check.names.end()) {
            check.error = twice(name, spec);
            return check;
        }
        check.names.push_back(name);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return check;
}

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
