#include "cli/counter_tracker.hpp"

#include <algorithm>
#include <limits>

namespace pctx::cli {

CounterTracker::CounterTracker(const CounterPlan& plan, Reader read, Complaint complain)
    : names_(plan.all()), all_(names_.size(), true), read_(std::move(read)),
      complain_(std::move(complain))
{
    // A single set (or none, with -t) shows everything; several show their own.
    if (plan.sets.size() < 2)
        return;
    for (const auto& set : plan.sets) {
        std::vector<bool> mask(names_.size(), false);
        for (std::size_t i = 0; i < names_.size(); ++i)
            mask[i] = std::find(set.begin(), set.end(), names_[i]) != set.end() ||
                      (plan.tick && names_[i] == *plan.tick);
        set_masks_.push_back(std::move(mask));
    }
}

std::optional<CounterTracker::Values> CounterTracker::read(pid_t pid, pid_t tid, bool complain)
{
    if (!enabled())
        return std::nullopt;
    std::vector<CounterValue> got;
    try {
        got = read_(pid, tid);
    } catch (const Error& e) {
        if (complain && !complained_ && complain_) {
            complained_ = true;
            complain_("cannot read the counters of pid " + std::to_string(pid) + " lwp " +
                      std::to_string(tid) + ": " + e.what());
        }
        return std::nullopt;
    }
    Values values(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
        const auto it = std::find_if(got.begin(), got.end(),
                                     [&](const CounterValue& v) { return v.name == names_[i]; });
        if (it != got.end())
            values[i] = it->value;
    }
    return values;
}

std::vector<CounterValue> CounterTracker::shown(const Values& values,
                                                const std::vector<bool>& mask) const
{
    std::vector<CounterValue> out;
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (mask[i] && values[i])
            out.push_back(CounterValue{names_[i], *values[i]});
    return out;
}

void CounterTracker::remember(Thread& t, const Values& values) const
{
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (values[i])
            t.last[i] = *values[i];
}

std::vector<CounterValue> CounterTracker::thread_started(pid_t pid, pid_t tid)
{
    if (!enabled())
        return {};
    Thread& t = threads_[{pid, tid}];
    t.previous.assign(names_.size(), 0);
    t.last.assign(names_.size(), 0);
    const auto values = read(pid, tid, true);
    if (!values)
        return {};
    remember(t, *values);
    return shown(*values, all_);
}

std::vector<CounterValue> CounterTracker::thread_finished(pid_t pid, pid_t tid)
{
    if (!enabled())
        return {};
    const auto values = read(pid, tid, true);
    const auto it = threads_.find({pid, tid});
    std::vector<std::uint64_t> last(names_.size(), 0);
    if (it != threads_.end()) {
        if (values)
            remember(it->second, *values);
        last = it->second.last;
        threads_.erase(it);
    } else if (values) {
        for (std::size_t i = 0; i < names_.size(); ++i)
            last[i] = (*values)[i].value_or(0);
    }
    auto& sum = finished_[pid];
    sum.resize(names_.size(), 0);
    for (std::size_t i = 0; i < names_.size(); ++i)
        sum[i] += last[i];
    return values ? shown(*values, all_) : std::vector<CounterValue>{};
}

std::vector<CounterValue> CounterTracker::thread_totals(pid_t pid, pid_t tid)
{
    const auto values = read(pid, tid, true);
    return values ? shown(*values, all_) : std::vector<CounterValue>{};
}

std::vector<CounterValue> CounterTracker::exec_totals(pid_t pid, pid_t tid)
{
    // A spawned command's first exec has no old image to total: no complaint.
    const auto values = read(pid, tid, false);
    return values ? shown(*values, all_) : std::vector<CounterValue>{};
}

std::vector<CounterValue> CounterTracker::process_exit(pid_t pid, pid_t tid)
{
    const auto values = read(pid, tid, true);
    return values ? shown(*values, all_) : std::vector<CounterValue>{};
}

CounterTracker::Sample CounterTracker::tick(pid_t pid, pid_t tid, std::uint64_t time_ns)
{
    Sample s;
    if (!enabled())
        return s;
    if (round_time_ != time_ns) {
        if (round_time_)
            ++round_;
        round_time_ = time_ns;
    }
    const std::vector<bool>* mask = &all_;
    if (!set_masks_.empty()) {
        const unsigned k = round_ % static_cast<unsigned>(set_masks_.size());
        s.set = k + 1;
        mask = &set_masks_[k];
    }
    auto values = read(pid, tid, true);
    if (!values)
        return s;
    Thread& t = threads_[{pid, tid}];
    t.previous.resize(names_.size(), 0);
    t.last.resize(names_.size(), 0);
    Values deltas(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
        auto& now = (*values)[i];
        if (!now)
            continue;
        // Totals never go back (one clock per counter, see
        // bpf/counters.bpf.h): a delta is never clamped into shape here.
        deltas[i] = *now - t.previous[i];
        t.previous[i] = *now;
    }
    remember(t, *values);
    s.totals = shown(*values, *mask);
    s.deltas = shown(deltas, *mask);
    return s;
}

std::vector<std::uint64_t> CounterTracker::process_totals(pid_t pid) const
{
    std::vector<std::uint64_t> sum(names_.size(), 0);
    if (const auto f = finished_.find(pid); f != finished_.end())
        for (std::size_t i = 0; i < names_.size() && i < f->second.size(); ++i)
            sum[i] += f->second[i];
    const auto end = threads_.upper_bound({pid, std::numeric_limits<pid_t>::max()});
    for (auto it = threads_.lower_bound({pid, 0}); it != end; ++it)
        for (std::size_t i = 0; i < names_.size() && i < it->second.last.size(); ++i)
            sum[i] += it->second.last[i];
    return sum;
}

std::vector<std::uint64_t> CounterTracker::take_process_totals(pid_t pid)
{
    std::vector<std::uint64_t> sum = process_totals(pid);
    finished_.erase(pid);
    threads_.erase(threads_.lower_bound({pid, 0}),
                   threads_.upper_bound({pid, std::numeric_limits<pid_t>::max()}));
    return sum;
}

} // namespace pctx::cli
