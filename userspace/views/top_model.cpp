#include "views/top_model.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <utility>

namespace pctx::detail {
namespace {

// "instructions:u" counts instructions.
std::string base_name(const std::string& counter)
{
    return counter.substr(0, counter.find(':'));
}

std::string short_title(const std::string& counter)
{
    const std::string base = base_name(counter);
    static const std::map<std::string, std::string> known = {
        {"context-switches", "CSW/s"}, {"cs", "CSW/s"},
        {"page-faults", "FLT/s"},      {"faults", "FLT/s"},
        {"minor-faults", "MINFLT/s"},  {"major-faults", "MAJFLT/s"},
        {"cpu-migrations", "MIGR/s"},  {"migrations", "MIGR/s"},
        {"instructions", "INSN/s"},    {"cycles", "CYCLES/s"},
    };
    const auto it = known.find(base);
    if (it != known.end() && base == counter)
        return it->second;
    return counter + "/s";
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b)
{
    return a > b ? a - b : 0; // a restarted counter never goes negative
}

void add_delta(std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& now,
               const std::vector<std::uint64_t>& then)
{
    for (std::size_t i = 0; i < into.size() && i < now.size() && i < then.size(); ++i)
        into[i] += minus(now[i], then[i]);
}

double seconds_between(std::uint64_t from_ns, std::uint64_t to_ns)
{
    return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

} // namespace

std::vector<RateColumn> rate_columns(const std::vector<std::string>& counter_names)
{
    std::vector<RateColumn> cols;
    std::optional<std::size_t> cycles;
    std::optional<std::size_t> instructions;
    bool have_cpu = false;
    for (std::size_t i = 0; i < counter_names.size(); ++i) {
        const std::string base = base_name(counter_names[i]);
        RateColumn c;
        c.counter = i;
        if (base == "task-clock" || base == "cpu-clock") {
            c.kind = RateKind::CpuPercent;
            c.title = have_cpu ? counter_names[i] + "%" : "CPU%";
            have_cpu = true;
        } else {
            c.kind = RateKind::PerSecond;
            c.title = short_title(counter_names[i]);
        }
        if (base == "cycles" && !cycles)
            cycles = i;
        if (base == "instructions" && !instructions)
            instructions = i;
        cols.push_back(c);
    }
    if (cycles && instructions) {
        RateColumn ipc;
        ipc.title = "IPC";
        ipc.kind = RateKind::Ipc;
        ipc.counter = *instructions;
        ipc.cycles = *cycles;
        cols.push_back(ipc);
    }
    return cols;
}

std::vector<std::string> top_columns(const std::vector<RateColumn>& rates, bool threads)
{
    std::vector<std::string> cols = {"PID"};
    if (threads)
        cols.emplace_back("TID");
    cols.emplace_back("USER");
    for (const auto& r : rates)
        cols.push_back(r.title);
    cols.insert(cols.end(), {"LIFE", "STATE", "COMMAND"});
    return cols;
}

std::string TopRow::state() const
{
    if (exited) {
        if (!wait_status)
            return "gone";
        if (WIFSIGNALED(*wait_status)) {
            const char* abbrev = sigabbrev_np(WTERMSIG(*wait_status));
            return abbrev != nullptr ? std::string("SIG") + abbrev
                                     : "sig " + std::to_string(WTERMSIG(*wait_status));
        }
        return "exit " + std::to_string(WEXITSTATUS(*wait_status));
    }
    if (pending)
        return "new";
    return ran ? "run" : "sleep";
}

TopModel::TopModel(std::vector<std::string> counter_names, std::uint64_t start_ns)
    : counter_names_(std::move(counter_names)), columns_(rate_columns(counter_names_)),
      last_ns_(start_ns)
{
}

TopModel::Process& TopModel::process(pid_t pid, std::uint64_t time_ns)
{
    auto [it, fresh] = procs_.try_emplace(pid);
    if (fresh) {
        it->second.start_ns = time_ns;
        it->second.ended_delta.assign(counter_names_.size(), 0);
    }
    return it->second;
}

void TopModel::thread_start(pid_t pid, pid_t tid, std::uint64_t time_ns)
{
    Process& p = process(pid, time_ns);
    auto it = p.threads.find(tid);
    if (it != p.threads.end()) // an exec's new leader: the old image's thread ended
        add_delta(p.ended_delta, it->second.now, it->second.then);
    Thread t;
    t.start_ns = time_ns;
    t.now.assign(counter_names_.size(), 0);
    t.then = t.now;
    p.threads[tid] = t;
}

void TopModel::thread_values(pid_t pid, pid_t tid, const std::vector<std::uint64_t>& values)
{
    auto p = procs_.find(pid);
    if (p == procs_.end() || values.size() != counter_names_.size())
        return;
    auto t = p->second.threads.find(tid);
    if (t != p->second.threads.end())
        t->second.now = values;
}

void TopModel::thread_end(pid_t pid, pid_t tid, std::uint64_t time_ns)
{
    auto p = procs_.find(pid);
    if (p == procs_.end())
        return;
    auto t = p->second.threads.find(tid);
    if (t != p->second.threads.end() && !t->second.ended) {
        t->second.ended = true;
        t->second.end_ns = time_ns;
    }
}

void TopModel::fork(pid_t parent, pid_t child, std::uint64_t time_ns)
{
    ++forks_;
    Process& c = process(child, time_ns);
    c.is_new = true;
    auto p = procs_.find(parent);
    if (p != procs_.end() && c.command.empty()) {
        c.user = p->second.user;
        c.command = p->second.command;
    }
}

void TopModel::exec(pid_t pid, const std::string& command, std::uint64_t time_ns)
{
    ++execs_;
    process(pid, time_ns).command = command;
}

void TopModel::exit(pid_t pid, int wait_status, std::uint64_t time_ns)
{
    ++exits_;
    Process& p = process(pid, time_ns);
    p.exited = true;
    p.end_ns = time_ns;
    p.wait_status = wait_status;
    for (auto& [tid, t] : p.threads)
        thread_end(pid, tid, time_ns);
}

void TopModel::describe(pid_t pid, const std::string& user, const std::string& command,
                        std::uint64_t start_ns)
{
    Process& p = process(pid, start_ns);
    p.user = user;
    if (p.command.empty())
        p.command = command;
    p.start_ns = std::min(p.start_ns, start_ns);
}

std::vector<pid_t> TopModel::live_pids() const
{
    std::vector<pid_t> pids;
    for (const auto& [pid, p] : procs_)
        if (!p.exited)
            pids.push_back(pid);
    return pids;
}

std::vector<double> TopModel::rates_of(const std::vector<std::uint64_t>& delta,
                                       double seconds) const
{
    std::vector<double> rates;
    for (const auto& c : columns_) {
        double r = 0;
        const auto v = static_cast<double>(delta[c.counter]);
        switch (c.kind) {
        case RateKind::CpuPercent:
            r = seconds > 0 ? v / 1e9 / seconds * 100.0 : 0;
            break;
        case RateKind::PerSecond:
            r = seconds > 0 ? v / seconds : 0;
            break;
        case RateKind::Ipc:
            r = delta[c.cycles] != 0 ? v / static_cast<double>(delta[c.cycles]) : 0;
            break;
        }
        rates.push_back(r);
    }
    return rates;
}

void TopModel::refresh(std::uint64_t now_ns)
{
    const std::uint64_t since = last_ns_;
    // Those shown exited at the previous refresh have had their one refresh.
    for (auto it = procs_.begin(); it != procs_.end();) {
        if (it->second.exited && it->second.row.exited) {
            it = procs_.erase(it);
            continue;
        }
        auto& threads = it->second.threads;
        for (auto t = threads.begin(); t != threads.end();)
            t = t->second.ended && t->second.row.exited ? threads.erase(t) : std::next(t);
        ++it;
    }

    // Rates are per second of the refresh, as top's: a process that lived
    // 10 ms of it on one CPU shows 1% of a second, not 100% of its life.
    const double interval = seconds_between(since, now_ns);
    totals_ = TopTotals{};
    const std::vector<std::uint64_t> zero(counter_names_.size(), 0);
    for (auto& [pid, p] : procs_) {
        std::vector<std::uint64_t> delta = p.ended_delta;
        for (auto& [tid, t] : p.threads) {
            std::vector<std::uint64_t> d = zero;
            add_delta(d, t.now, t.then);
            add_delta(delta, t.now, t.then);
            const std::uint64_t until = t.ended ? t.end_ns : now_ns;
            TopRow& r = t.row;
            r.pid = pid;
            r.tid = tid;
            r.rates = rates_of(d, interval);
            r.ran = std::any_of(d.begin(), d.end(), [](std::uint64_t v) { return v != 0; });
            r.lifetime_ns = minus(until, t.start_ns);
            // Threads there at the start are not new; later ones are.
            r.is_new = t.is_new && refreshed_once_;
            r.exited = t.ended;
            t.then = t.now;
            t.is_new = false;
            if (!t.ended)
                ++totals_.threads;
        }
        const std::uint64_t until = p.exited ? p.end_ns : now_ns;
        TopRow& r = p.row;
        r.pid = pid;
        r.tid = 0;
        r.user = p.user;
        r.command = p.command;
        r.rates = rates_of(delta, interval);
        r.ran = std::any_of(delta.begin(), delta.end(), [](std::uint64_t v) { return v != 0; });
        r.lifetime_ns = minus(until, p.start_ns);
        r.is_new = p.is_new;
        r.exited = p.exited;
        r.wait_status = p.wait_status;
        for (auto& [tid, t] : p.threads) {
            t.row.user = p.user;
            t.row.command = p.command;
            t.row.wait_status = p.exited ? p.wait_status : std::nullopt; // its process's end
        }
        p.is_new = false;
        p.ended_delta = zero;
        if (!p.exited)
            ++totals_.processes;
    }

    const double secs = seconds_between(since, now_ns);
    if (secs > 0) {
        totals_.execs_per_s = static_cast<double>(execs_) / secs;
        totals_.forks_per_s = static_cast<double>(forks_) / secs;
        totals_.exits_per_s = static_cast<double>(exits_) / secs;
    }
    totals_.lost = lost_;
    execs_ = forks_ = exits_ = 0;
    last_ns_ = now_ns;
    refreshed_once_ = true;
}

std::vector<TopRow> TopModel::rows(const TopView& view) const
{
    std::vector<TopRow> out;
    for (const auto& [pid, p] : procs_) {
        if (!view.filter.empty() && p.command.find(view.filter) == std::string::npos)
            continue;
        if (p.row.pid == 0) { // born since the last refresh: shown at once, marked
            if (!view.threads && !p.exited) {
                TopRow r;
                r.pid = pid;
                r.user = p.user;
                r.command = p.command;
                r.rates.assign(columns_.size(), 0.0);
                r.is_new = true;
                r.pending = true;
                out.push_back(r);
            }
            continue;
        }
        if (!view.threads) {
            out.push_back(p.row);
            continue;
        }
        for (const auto& [tid, t] : p.threads)
            if (t.row.pid != 0)
                out.push_back(t.row);
    }

    // Column index → comparison: PID, [TID], USER, rates, LIFE, STATE, COMMAND.
    const std::size_t nrates = columns_.size();
    std::size_t col = view.sort;
    const std::size_t fixed = view.threads ? 3 : 2;
    std::function<bool(const TopRow&, const TopRow&)> less;
    if (col == 0) {
        less = [](const TopRow& a, const TopRow& b) {
            return a.pid < b.pid;
        };
    } else if (view.threads && col == 1) {
        less = [](const TopRow& a, const TopRow& b) {
            return a.tid < b.tid;
        };
    } else if (col == fixed - 1) {
        less = [](const TopRow& a, const TopRow& b) {
            return a.user < b.user;
        };
    } else if (col < fixed + nrates) {
        const std::size_t i = col - fixed;
        less = [i](const TopRow& a, const TopRow& b) {
            return a.rates[i] < b.rates[i];
        };
    } else if (col == fixed + nrates) {
        less = [](const TopRow& a, const TopRow& b) {
            return a.lifetime_ns < b.lifetime_ns;
        };
    } else if (col == fixed + nrates + 1) {
        less = [](const TopRow& a, const TopRow& b) {
            return a.state() < b.state();
        };
    } else {
        less = [](const TopRow& a, const TopRow& b) {
            return a.command < b.command;
        };
    }
    // Ties keep pid order, so rows do not jump about between refreshes.
    std::stable_sort(out.begin(), out.end(), [&](const TopRow& a, const TopRow& b) {
        return view.ascending ? less(a, b) : less(b, a);
    });
    return out;
}

} // namespace pctx::detail
