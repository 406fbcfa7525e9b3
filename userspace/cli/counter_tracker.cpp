#include "cli/counter_tracker.hpp"

#include <algorithm>
#include <limits>

namespace pctx::cli {

CounterTracker::CounterTracker(const CounterPlan& plan, Reader read, Complaint complain,
                               Totals totals)
    : names_(plan.all()), all_(names_.size(), true), read_(std::move(read)),
      complain_(std::move(complain)), totals_(std::move(totals))
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

std::vector<CounterValue> CounterTracker::thread_started(pid_t pid, pid_t tid)
{
    if (!enabled())
        return {};
    threads_[{pid, tid}].assign(names_.size(), 0);
    const auto values = read(pid, tid, true);
    return values ? shown(*values, all_) : std::vector<CounterValue>{};
}

std::vector<CounterValue> CounterTracker::thread_finished(pid_t pid, pid_t tid)
{
    if (!enabled())
        return {};
    threads_.erase({pid, tid});
    const auto values = read(pid, tid, true);
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
    Previous& previous = threads_[{pid, tid}];
    previous.resize(names_.size(), 0);
    Values deltas(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
        auto& now = (*values)[i];
        if (!now)
            continue;
        // Totals never go back (one clock per counter, see
        // bpf/counters.bpf.h): a delta is never clamped into shape here.
        deltas[i] = *now - previous[i];
        previous[i] = *now;
    }
    s.totals = shown(*values, *mask);
    s.deltas = shown(deltas, *mask);
    return s;
}

std::vector<std::uint64_t> CounterTracker::process_totals(pid_t pid) const
{
    std::vector<std::uint64_t> sum = totals_ ? totals_(pid) : std::vector<std::uint64_t>{};
    sum.resize(names_.size(), 0);
    return sum;
}

void CounterTracker::forget(pid_t pid)
{
    threads_.erase(threads_.lower_bound({pid, 0}),
                   threads_.upper_bound({pid, std::numeric_limits<pid_t>::max()}));
}

} // namespace pctx::cli
