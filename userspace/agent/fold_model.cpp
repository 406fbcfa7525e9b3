#include "agent/fold_model.hpp"

#include "agent/cgroup_label.hpp"

#include <string.h>

#include <algorithm>

namespace pctx::detail {

std::string exit_status_class(const ExitEvent& e)
{
    if (e.reconciled)
        return "unknown";
    if (e.exited())
        return e.exit_code() == 0 ? "0" : "non-zero";
    const char* abbrev = ::sigabbrev_np(e.signal());
    return abbrev ? std::string("SIG") + abbrev : "SIG" + std::to_string(e.signal());
}

FoldModel::FoldModel(std::vector<std::string> counter_names, bool per_pid, std::chrono::seconds ttl,
                     LabelReader read_labels)
    : names_(std::move(counter_names)), per_pid_(per_pid), ttl_(ttl),
      read_labels_(std::move(read_labels))
{
}

FoldModel::Series& FoldModel::join(Process& p, SeriesKey key, const std::string& container_id)
{
    if (!per_pid_)
        key.pid = 0;
    p.key = std::move(key);
    auto [it, fresh] = series_.try_emplace(p.key);
    Series& s = it->second;
    if (fresh) {
        s.totals.container_id = container_id;
        s.totals.counters.assign(names_.size(), 0);
    }
    ++s.processes;
    s.last_active = Clock::now();
    return s;
}

void FoldModel::leave(const Process& p)
{
    const auto it = series_.find(p.key);
    if (it == series_.end())
        return;
    if (it->second.processes > 0)
        --it->second.processes;
    it->second.last_active = Clock::now();
}

FoldModel::Process& FoldModel::process(pid_t pid)
{
    auto [it, fresh] = processes_.try_emplace(pid);
    Process& p = it->second;
    p.seen_since_sweep = true;
    if (fresh) {
        Labels labels = read_labels_(pid);
        if (labels.comm.empty())
            labels.comm = "?";
        join(p, SeriesKey{labels.cgroup, labels.comm, pid}, container_id_of(labels.cgroup));
    }
    return p;
}

FoldModel::Series& FoldModel::series_of(Process& p)
{
    auto it = series_.find(p.key);
    if (it == series_.end()) // dropped by the ttl while its process slept: start it again
        return join(p, p.key, container_id_of(p.key.cgroup));
    return it->second;
}

void FoldModel::fold(Process& p, std::vector<std::uint64_t>& last,
                     const std::vector<CounterValue>& totals)
{
    last.resize(names_.size(), 0);
    Series& s = series_of(p);
    s.last_active = Clock::now();
    for (const CounterValue& v : totals) {
        const auto i = static_cast<std::size_t>(std::find(names_.begin(), names_.end(), v.name) -
                                                names_.begin());
        if (i >= names_.size())
            continue;
        // Thread totals never go back; a smaller one is a new count (a tid
        // reused before its fini_lwp was seen): it is all new.
        s.totals.counters[i] += v.value >= last[i] ? v.value - last[i] : v.value;
        last[i] = v.value;
    }
}

void FoldModel::thread_started(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals)
{
    Process& p = process(pid);
    auto [it, fresh] = threads_.try_emplace({pid, tid});
    if (fresh)
        ++p.threads;
    // A new thread or image counts from zero.
    it->second.assign(names_.size(), 0);
    fold(p, it->second, totals);
}

void FoldModel::thread_ticked(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals)
{
    Process& p = process(pid);
    auto [it, fresh] = threads_.try_emplace({pid, tid});
    if (fresh)
        ++p.threads;
    fold(p, it->second, totals);
}

void FoldModel::thread_finished(pid_t pid, pid_t tid, const std::vector<CounterValue>& totals)
{
    Process& p = process(pid);
    const auto it = threads_.find({pid, tid});
    std::vector<std::uint64_t> last =
        it == threads_.end() ? std::vector<std::uint64_t>{} : std::move(it->second);
    fold(p, last, totals);
    if (it != threads_.end()) {
        threads_.erase(it);
        if (p.threads > 0)
            --p.threads;
    }
}

void FoldModel::thread_created(pid_t pid)
{
    Process& p = process(pid);
    ++series_of(p).totals.threads_created;
}

void FoldModel::forked(pid_t parent, pid_t child)
{
    Process& p = process(parent);
    ++series_of(p).totals.forks;
    if (processes_.count(child) != 0)
        return;
    // The child is its parent's image, in its parent's cgroup unless it was
    // born into another one (clone3's CLONE_INTO_CGROUP) or has moved since.
    const SeriesKey parent_key = p.key;
    const std::string container = series_of(p).totals.container_id;
    Labels now = read_labels_(child);
    Process& c = processes_[child];
    if (now.cgroup.empty() || now.cgroup == parent_key.cgroup)
        join(c, SeriesKey{parent_key.cgroup, parent_key.comm, child}, container);
    else
        join(c, SeriesKey{now.cgroup, parent_key.comm, child}, container_id_of(now.cgroup));
}

void FoldModel::execed(pid_t pid, const std::string& comm)
{
    Process& p = process(pid);
    // The old image's counts stay in its series (its threads' fini_lwp came
    // first); the new image starts in its own.
    std::string cgroup = read_labels_(pid).cgroup;
    if (cgroup.empty())
        cgroup = p.key.cgroup;
    leave(p);
    Series& s =
        join(p, SeriesKey{cgroup, comm.empty() ? p.key.comm : comm, pid}, container_id_of(cgroup));
    ++s.totals.execs;
}

void FoldModel::exited(const ExitEvent& e)
{
    Process& p = process(e.pid);
    ++series_of(p).totals.exits[exit_status_class(e)];
    leave(p);
    threads_.erase(threads_.lower_bound({e.pid, 0}), threads_.upper_bound({e.pid, INT32_MAX}));
    processes_.erase(e.pid);
}

void FoldModel::lost(const LostCounts& total)
{
    lost_ = total;
}

void FoldModel::sweep(Clock::time_point now)
{
    for (auto it = processes_.begin(); it != processes_.end();) {
        Process& p = it->second;
        if (p.threads == 0 && !p.seen_since_sweep) {
            leave(p);
            it = processes_.erase(it);
            continue;
        }
        // Threadless for a moment is an exec between fini_lwp and init_lwp;
        // threadless and silent for a whole sweep is a process let go.
        if (p.threads == 0)
            p.seen_since_sweep = false;
        ++it;
    }
    for (auto it = series_.begin(); it != series_.end();) {
        if (it->second.processes == 0 && now - it->second.last_active >= ttl_)
            it = series_.erase(it);
        else
            ++it;
    }
}

FoldSnapshot FoldModel::snapshot() const
{
    FoldSnapshot s;
    s.counter_names = names_;
    for (const auto& [key, series] : series_)
        s.series.emplace(key, series.totals);
    s.processes = processes_.size();
    s.threads = threads_.size();
    s.lost = lost_;
    return s;
}

} // namespace pctx::detail
