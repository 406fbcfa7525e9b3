#include "views/timeline_json.hpp"

#include "pctx/pctx.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pctx::detail {
namespace {

// task-clock counts what the thread ran; cpu-clock is the same where only it was asked.
std::optional<std::uint64_t> cpu_of(const nlohmann::json& row)
{
    const auto counters = row.find("counters");
    if (counters == row.end() || !counters->is_object())
        return std::nullopt;
    for (const char* name : {"task-clock", "cpu-clock"}) {
        const auto v = counters->find(name);
        if (v != counters->end() && v->is_number_unsigned())
            return v->get<std::uint64_t>();
    }
    return std::nullopt;
}

} // namespace

std::optional<TimelineEvent> timeline_event_of(const std::string& line)
{
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_object())
        return std::nullopt;
    const auto event = row.find("event");
    const auto pid = row.find("pid");
    const auto time = row.find("time_ns");
    if (event == row.end() || !event->is_string() || pid == row.end() ||
        !pid->is_number_integer() || time == row.end() || !time->is_number_unsigned())
        return std::nullopt;

    TimelineEvent e;
    e.event = event->get<std::string>();
    e.pid = pid->get<pid_t>();
    e.tid = e.pid;
    if (const auto t = row.find("tid"); t != row.end() && t->is_number_integer())
        e.tid = t->get<pid_t>();
    e.time_ns = time->get<std::uint64_t>();
    if (const auto c = row.find("child_pid"); c != row.end() && c->is_number_integer())
        e.child_pid = c->get<pid_t>();
    if (const auto a = row.find("args"); a != row.end() && a->is_array())
        for (const auto& arg : *a)
            if (arg.is_string())
                e.args.push_back(arg.get<std::string>());
    if (const auto s = row.find("status"); s != row.end() && s->is_number_integer())
        e.status = s->get<int>();
    if (const auto s = row.find("signal"); s != row.end() && s->is_number_integer())
        e.signal = s->get<int>();
    e.cpu_ns = cpu_of(row);
    return e;
}

Timeline read_timeline(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw Error("plot", "cannot read '" + path + "': " + std::strerror(errno));
    TimelineBuilder builder;
    std::string line;
    for (unsigned long number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        const auto event = timeline_event_of(line);
        if (!event)
            throw Error("plot", "'" + path + "' line " + std::to_string(number) +
                                    " is not a pctx-bpf event: give the output of 'pctx-bpf "
                                    "run --format json'");
        builder.add(*event);
    }
    if (in.bad())
        throw Error("plot", "cannot read '" + path + "': " + std::strerror(errno));
    if (builder.events() == 0)
        throw Error("plot", "'" + path +
                                "' holds no events: record a run with 'pctx-bpf run --format "
                                "json -o FILE'");
    return builder.build();
}

} // namespace pctx::detail
