#include "cli/summary.hpp"

#include "cli/output/escape.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace pctx::cli {
namespace {

constexpr std::size_t kListed = 20; // processes listed one by one

double seconds(const timeval& tv)
{
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

} // namespace

Summary::Summary(std::vector<std::string> counter_names, bool stop_at_exec)
    : counters_(std::move(counter_names)), stop_at_exec_(stop_at_exec)
{
}

void Summary::set_exit_totals(pid_t pid, std::vector<std::uint64_t> totals)
{
    exit_totals_[pid] = std::move(totals);
}

void Summary::record(const Row& row)
{
    if (row.count)
        lost_rows_ += *row.count;
    if (row.pid <= 0)
        return;
    auto it = live_.find(row.pid);
    const bool known = it != live_.end();
    if (!known) {
        Process p;
        p.pid = row.pid;
        p.first_ns = row.time_ns;
        processes_.emplace(seen_, std::move(p));
        it = live_.emplace(row.pid, seen_++).first;
    }
    const std::size_t n = it->second;
    Process& p = processes_.at(n);
    if (!row.command.empty())
        p.command = row.command;
    p.last_ns = row.time_ns;
    if (row.event == "exit") {
        p.end = row.signal && *row.signal != 0 ? "signal " + std::to_string(*row.signal)
                                               : "status " + std::to_string(row.status.value_or(0));
        if (row.reconciled)
            p.end = "exit lost";
        if (const auto t = exit_totals_.find(row.pid); t != exit_totals_.end()) {
            p.totals = std::move(t->second);
            exit_totals_.erase(t);
        }
        live_.erase(it);
        fold(n);
    } else if (row.event == "exec" && stop_at_exec_ && known) {
        p.end = "released at exec";
        live_.erase(it);
    }
}

void Summary::fold(std::size_t n)
{
    const auto it = processes_.find(n);
    if (n < kListed || it == processes_.end() || it->second.totals.empty())
        return; // listed, or its totals are read at the end
    const Process& p = it->second;
    folded_.totals.resize(counters_.size(), 0);
    for (std::size_t i = 0; i < counters_.size() && i < p.totals.size(); ++i)
        folded_.totals[i] += p.totals[i];
    folded_.first_ns = std::min(folded_.first_ns, p.first_ns);
    folded_.last_ns = std::max(folded_.last_ns, p.last_ns);
    processes_.erase(it);
}

void Summary::print(std::FILE* out, const Ending& ending) const
{
    std::fprintf(out, "pctx-bpf: summary\n%8s %10s  %-16s", "pid", "lifetime", "end");
    for (const auto& name : counters_)
        std::fprintf(out, " %*s", counter_width(name), name.c_str());
    std::fprintf(out, "  command\n");
    auto print_totals = [&](const std::vector<std::uint64_t>& totals) {
        for (std::size_t i = 0; i < counters_.size(); ++i) {
            const int w = counter_width(counters_[i]);
            if (i < totals.size())
                std::fprintf(out, " %*llu", w, static_cast<unsigned long long>(totals[i]));
            else
                std::fprintf(out, " %*s", w, "-");
        }
    };
    // The first kListed processes one by one; the others, and all, summed.
    std::vector<std::uint64_t> rest(counters_.size(), 0), all(counters_.size(), 0);
    for (std::size_t i = 0; i < counters_.size() && i < folded_.totals.size(); ++i) {
        rest[i] += folded_.totals[i];
        all[i] += folded_.totals[i];
    }
    std::uint64_t first_ns = folded_.first_ns, last_ns = folded_.last_ns;
    for (const auto& [n, p] : processes_) {
        const bool traced = p.end.empty();
        const std::uint64_t until = traced ? std::max(ending.end_ns, p.last_ns) : p.last_ns;
        first_ns = std::min(first_ns, p.first_ns);
        last_ns = std::max(last_ns, until);
        // Exited: totals taken at the exit; still traced or released: as they stand.
        std::vector<std::uint64_t> totals = p.totals;
        if ((traced || totals.empty()) && ending.live_totals)
            totals = ending.live_totals(p.pid);
        for (std::size_t i = 0; i < counters_.size() && i < totals.size(); ++i) {
            all[i] += totals[i];
            if (n >= kListed)
                rest[i] += totals[i];
        }
        if (n >= kListed)
            continue;
        const double life = static_cast<double>(until - p.first_ns) / 1e9;
        std::fprintf(out, "%8d %9.3fs  %-16s", p.pid, life,
                     traced ? ending.unfinished : p.end.c_str());
        print_totals(totals);
        std::fprintf(out, "  %s\n", escape_text(p.command).c_str());
    }
    if (seen_ > kListed) {
        const std::string more = std::to_string(seen_ - kListed) + " more";
        std::fprintf(out, "%8s %10s  %-16s", "...", "", more.c_str());
        print_totals(rest);
        std::fprintf(out, "  (not listed one by one)\n");
    }
    if (seen_ > 1) {
        const std::string count = std::to_string(seen_) + " processes";
        std::fprintf(out, "%8s %9.3fs  %-*s", "all", static_cast<double>(last_ns - first_ns) / 1e9,
                     counters_.empty() ? 0 : 16, count.c_str());
        print_totals(all);
        std::fprintf(out, "\n");
    }
    std::string kinds;
    for (const auto& [kind, n] : lost_by_kind(ending.lost))
        if (n > 0)
            kinds += (kinds.empty() ? " (" : ", ") + std::string(kind) + " " + std::to_string(n);
    std::fprintf(out, "pctx-bpf: %llu events lost%s\n",
                 static_cast<unsigned long long>(std::max(ending.lost.total(), lost_rows_)),
                 kinds.empty() ? "" : (kinds + ")").c_str());
    if (ending.unseen_switches > 0)
        std::fprintf(out,
                     "pctx-bpf: %llu context switches the kernel did not report: counts other "
                     "than time are estimated for the slices they began or ended\n",
                     static_cast<unsigned long long>(ending.unseen_switches));
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    const double user = seconds(self.ru_utime);
    const double sys = seconds(self.ru_stime);
    std::fprintf(out, "pctx-bpf: tracer CPU time %.3f s (user %.3f s, system %.3f s)\n", user + sys,
                 user, sys);
}

} // namespace pctx::cli
