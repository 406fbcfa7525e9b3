#include "views/timeline_model.hpp"

#include <algorithm>
#include <utility>

namespace pctx::detail {
namespace {

std::string command_line(const std::vector<std::string>& args)
{
    std::string line;
    for (const auto& a : args)
        line += (line.empty() ? "" : " ") + a;
    return line;
}

} // namespace

std::size_t TimelineBuilder::process_of(pid_t pid, std::uint64_t time_ns)
{
    const auto it = current_.find(pid);
    if (it != current_.end())
        return it->second;
    // Seen before its fork (a root, or a process captured with -p).
    Process p;
    p.lane.pid = pid;
    p.lane.start_ns = time_ns;
    p.lane.images.push_back({time_ns, {}});
    processes_.push_back(std::move(p));
    current_[pid] = processes_.size() - 1;
    return processes_.size() - 1;
}

// Thread rows carry the thread's running total: what grew since its previous
// row was spent in between. exec and exit rows carry process totals: skipped.
void TimelineBuilder::account_cpu(const TimelineEvent& event, std::size_t process)
{
    if (!event.cpu_ns)
        return;
    has_cpu_ = true;
    const std::uint64_t total = *event.cpu_ns;
    if (event.event == "init_lwp") {
        threads_[event.tid] = {process, event.time_ns, total};
        return;
    }
    if (event.event != "tick" && event.event != "fini_lwp" && event.event != "lwp_exit")
        return;
    auto it = threads_.find(event.tid);
    if (it == threads_.end())
        it = threads_.emplace(event.tid, Thread{process, first_ns_, 0}).first;
    Thread& t = it->second;
    if (total > t.last_cpu && event.time_ns >= t.last_ns)
        processes_[t.process].lane.cpu.push_back({t.last_ns, event.time_ns, total - t.last_cpu});
    t.last_ns = event.time_ns;
    t.last_cpu = std::max(total, t.last_cpu);
    if (event.event != "tick")
        threads_.erase(it);
}

void TimelineBuilder::add(const TimelineEvent& event)
{
    if (event.event == "lost")
        return;
    if (events_++ == 0)
        first_ns_ = event.time_ns;
    last_ns_ = std::max(last_ns_, event.time_ns);

    const std::size_t index = process_of(event.pid, event.time_ns);
    if (event.event == "fork" && event.child_pid) {
        // A pid seen again after its exit is a new process.
        Process child;
        child.lane.pid = *event.child_pid;
        child.lane.start_ns = event.time_ns;
        child.lane.images.push_back({event.time_ns, processes_[index].lane.images.back().name});
        child.parent = index;
        processes_.push_back(std::move(child));
        processes_[index].children.push_back(processes_.size() - 1);
        current_[*event.child_pid] = processes_.size() - 1;
        return;
    }
    TimelineLane& lane = processes_[index].lane;
    if (event.event == "exec") {
        // A spawned command's first exec names the image it started with.
        if (lane.images.size() == 1 && lane.images.front().name.empty())
            lane.images.front().name = command_line(event.args);
        else
            lane.images.push_back({event.time_ns, command_line(event.args)});
        return;
    }
    if (event.event == "exit") {
        lane.end_ns = event.time_ns;
        lane.status = event.status.value_or(0);
        lane.signal = event.signal.value_or(0);
        current_.erase(event.pid);
        return;
    }
    account_cpu(event, index);
}

Timeline TimelineBuilder::build() const
{
    Timeline t;
    t.start_ns = first_ns_;
    t.end_ns = last_ns_;
    t.has_cpu = has_cpu_;
    t.lanes.reserve(processes_.size());

    // Depth first without recursion: a fork chain can be thousands deep.
    std::vector<std::size_t> lane_of(processes_.size());
    std::vector<std::size_t> stack;
    for (std::size_t i = processes_.size(); i-- > 0;)
        if (!processes_[i].parent)
            stack.push_back(i);
    while (!stack.empty()) {
        const std::size_t i = stack.back();
        stack.pop_back();
        const Process& p = processes_[i];
        TimelineLane lane = p.lane;
        if (p.parent) {
            lane.parent = lane_of[*p.parent];
            lane.depth = t.lanes[*lane.parent].depth + 1;
        }
        if (!lane.status)
            lane.end_ns = last_ns_; // alive at the end
        lane_of[i] = t.lanes.size();
        t.lanes.push_back(std::move(lane));
        for (auto c = p.children.rbegin(); c != p.children.rend(); ++c)
            stack.push_back(*c);
    }
    return t;
}

} // namespace pctx::detail
