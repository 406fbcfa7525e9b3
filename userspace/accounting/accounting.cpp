#include "accounting/accounting.hpp"

#include <utility>

namespace pctx::detail {
namespace {

void add(Accounting::Values& into, const Accounting::Values& values)
{
    for (std::size_t k = 0; k < into.size(); ++k)
        into[k] += values[k];
}

std::vector<std::uint64_t> first(const Accounting::Values& values, std::size_t n)
{
    return {values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n)};
}

} // namespace

Accounting::Accounting(Namer namer) : namer_(std::move(namer)) {}

Accounting::Process& Accounting::live(pid_t pid, std::uint64_t time_ns)
{
    if (time_ns > now_ns_)
        now_ns_ = time_ns;
    auto [it, fresh] = live_.try_emplace(pid);
    Process& p = it->second;
    if (fresh) {
        p.pid = pid;
        p.first_ns = time_ns;
    }
    p.last_ns = time_ns;
    return p;
}

void Accounting::thread_started(const LwpEvent& ev)
{
    std::unique_lock<std::mutex> lock(mutex_);
    const auto known = live_.find(ev.pid);
    if (known == live_.end() || !known->second.named) {
        // Its first event: named from /proc, outside the lock (only run()'s
        // thread changes the model, so nothing moves meanwhile).
        lock.unlock();
        std::string name = namer_ ? namer_(ev.pid) : std::string();
        lock.lock();
        Process& p = live(ev.pid, ev.time_ns);
        p.command = std::move(name);
        p.named = true;
    }
    Process& p = live(ev.pid, ev.time_ns);
    // The start (a capture's thread, a started command's first image): what
    // came before is not the target's (a started command's threads before
    // its exec were the spawner's, e.g. a sanitizer's runtime).
    if (ev.at_start)
        p.finished = Values{};
    Thread& t = p.threads[ev.tid];
    t = Thread{};
    t.counted = !ev.uncounted;
}

void Accounting::thread_read(const LwpEvent& ev, const Values& values)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    Process& p = live(ev.pid, ev.time_ns);
    Thread& t = p.threads[ev.tid];
    t.counted = !ev.uncounted;
    if (!t.counted)
        return; // nothing read: its totals are unknown
    for (std::size_t k = 0; k < values.size(); ++k) {
        // Totals never go back (one clock per counter): no clamp here.
        t.delta[k] = values[k] - t.previous[k];
        t.previous[k] = values[k];
    }
    t.last = values;
}

void Accounting::thread_ended(const LwpEvent& ev, const Values& values)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    Process& p = live(ev.pid, ev.time_ns);
    const auto it = p.threads.find(ev.tid);
    if (!ev.uncounted) {
        add(p.finished, values);
    } else if (it != p.threads.end()) {
        add(p.finished, it->second.last); // the best known: its last tick
    }
    if (it != p.threads.end())
        p.threads.erase(it);
}

void Accounting::forked(const ForkEvent& ev)
{
    if (!ev.followed)
        return;
    const std::lock_guard<std::mutex> lock(mutex_);
    // A pid still held names a process whose end went unseen: it has ended.
    if (live_.count(ev.child_pid) != 0)
        end(ev.child_pid, ev.time_ns, std::nullopt);
    const std::string parent = live(ev.pid, ev.time_ns).command;
    Process& child = live(ev.child_pid, ev.time_ns);
    child.ppid = ev.pid;
    child.command = parent;
    child.named = true;
}

void Accounting::execed(const ExecEvent& ev)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    Process& p = live(ev.pid, ev.time_ns);
    p.command = join_args(ev.argv);
    p.named = true;
    // The old image's threads had their fini_lwp before: whatever is left
    // (an uncounted thread whose end was not seen) is folded in now.
    for (const auto& [tid, t] : p.threads)
        add(p.finished, t.last);
    p.threads.clear();
}

void Accounting::exited(const ExitEvent& ev)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    live(ev.pid, ev.time_ns);
    end(ev.pid, ev.time_ns, ev);
}

void Accounting::released(pid_t pid, std::uint64_t time_ns)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    if (live_.count(pid) != 0)
        end(pid, time_ns, std::nullopt);
}

void Accounting::end(pid_t pid, std::uint64_t time_ns, const std::optional<ExitEvent>& exit)
{
    const auto it = live_.find(pid);
    Process p = std::move(it->second);
    live_.erase(it);
    p.last_ns = time_ns;
    p.exit = exit;
    p.released = !exit;
    ended_.push_back(std::move(p));
    if (ended_.size() > kMaxEnded)
        ended_.pop_front();
}

void Accounting::set_lost(const LostCounts& lost)
{
    const std::lock_guard<std::mutex> lock(mutex_);
    lost_ = lost;
}

ProcessSnapshot Accounting::copy(const Process& p, std::size_t counters)
{
    ProcessSnapshot s;
    s.pid = p.pid;
    s.ppid = p.ppid;
    s.command = p.command;
    s.first_ns = p.first_ns;
    s.last_ns = p.last_ns;
    s.ended = p.exit || p.released;
    s.released = p.released;
    s.exit = p.exit;
    Values totals = p.finished;
    for (const auto& [tid, t] : p.threads) {
        add(totals, t.last);
        s.threads.push_back(
            ThreadSnapshot{tid, !t.counted, first(t.last, counters), first(t.delta, counters)});
    }
    s.totals = first(totals, counters);
    return s;
}

Snapshot Accounting::snapshot(std::size_t counters, pid_t pid)
{
    if (counters > kMaxCounters)
        counters = kMaxCounters;
    Snapshot s;
    const std::lock_guard<std::mutex> lock(mutex_);
    s.time_ns = now_ns_;
    s.lost = lost_;
    if (pid != 0) {
        if (const auto it = live_.find(pid); it != live_.end()) {
            s.processes.push_back(copy(it->second, counters));
        } else {
            for (auto e = ended_.rbegin(); e != ended_.rend(); ++e)
                if (e->pid == pid) {
                    s.processes.push_back(copy(*e, counters));
                    break;
                }
        }
        return s;
    }
    s.processes.reserve(live_.size() + ended_.size());
    for (const auto& [p, proc] : live_)
        s.processes.push_back(copy(proc, counters));
    for (const Process& proc : ended_)
        s.processes.push_back(copy(proc, counters));
    ended_.clear();
    return s;
}

} // namespace pctx::detail
