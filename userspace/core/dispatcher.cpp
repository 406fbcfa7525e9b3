#include "core/dispatcher.hpp"

#include "procfs/procfs.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <type_traits>
#include <cstring>
#include <string>

namespace pctx::detail {
namespace {

const CounterValues kZero{};
using Lwp = DispatchObserver::Lwp;

bool erase_tid(std::vector<pid_t>& tids, pid_t tid)
{
    const auto it = std::find(tids.begin(), tids.end(), tid);
    if (it == tids.end())
        return false;
    tids.erase(it);
    return true;
}

bool contains(const std::vector<pid_t>& tids, pid_t tid)
{
    return std::find(tids.begin(), tids.end(), tid) != tids.end();
}

bool thread_exists(pid_t pid, pid_t tid)
{
    struct stat st {};
    const std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
    return ::stat(path.c_str(), &st) == 0;
}

void add(CounterValues& into, const CounterValues& values)
{
    for (std::size_t k = 0; k < into.size(); ++k)
        into[k] += values[k];
}

CounterValues record_values(const pctx_record& rec)
{
    CounterValues v{};
    std::copy(std::begin(rec.values), std::end(rec.values), v.begin());
    return v;
}

} // namespace

template <typename Fn, typename Ev>
void Dispatcher::deliver(const Fn& fn, const Ev& ev, bool whole_process,
                         const CounterValues& values)
{
    if (!fn)
        return;
    // Restored even if the handler throws: the next event starts clean.
    struct Reset {
        Context& c;
        ~Reset() { c.active = false; }
    } reset{context_};
    bool counted = true;
    if constexpr (std::is_same_v<Ev, LwpEvent>)
        counted = !ev.uncounted;
    context_ = Context{true, whole_process, counted, ev.pid, ev.tid, values};
    fn(ev);
}

const std::function<void(const LwpEvent&)>& Dispatcher::handler(Lwp kind) const
{
    switch (kind) {
    case Lwp::Init:
        return handlers_.init_lwp;
    case Lwp::Fini:
        return handlers_.fini_lwp;
    case Lwp::Create:
        return handlers_.lwp_create;
    case Lwp::Exit:
        return handlers_.lwp_exit;
    case Lwp::Tick:
        break;
    }
    return handlers_.tick;
}

void Dispatcher::deliver_lwp(Lwp kind, const Process& proc, pid_t pid, pid_t tid,
                             std::uint64_t time_ns, const CounterValues& values, bool at_start)
{
    LwpEvent ev{pid, tid, time_ns, proc.uncounted.count(tid) != 0, at_start};
    for (DispatchObserver* o : observers_)
        o->lwp(kind, ev, values);
    deliver(handler(kind), ev, false, values);
}

void Dispatcher::released(pid_t pid)
{
    for (DispatchObserver* o : observers_)
        o->released(pid, now_);
}

bool Dispatcher::counters_of(pid_t pid, pid_t tid, CounterValues& out) const
{
    if (!context_.active || !context_.counted || context_.pid != pid ||
        (!context_.whole_process && context_.tid != tid))
        return false;
    out = context_.values;
    return true;
}

void Dispatcher::add_spawned(pid_t pid, std::uint64_t now_ns)
{
    Process& proc = procs_[pid];
    proc.awaiting_first_exec = true;
    proc.first_seen_ns = now_ns;
}

void Dispatcher::add_captured(pid_t pid, const std::vector<pid_t>& tids,
                              const std::set<pid_t>& uncounted, std::uint64_t now_ns, bool at_start)
{
    Process& proc = procs_[pid];
    if (proc.first_seen_ns == 0)
        proc.first_seen_ns = now_ns;
    for (pid_t tid : tids) {
        if (contains(proc.threads, tid))
            continue;
        proc.threads.push_back(tid);
        if (uncounted.count(tid) != 0)
            proc.uncounted.insert(tid);
        deliver_lwp(Lwp::Init, proc, pid, tid, advance(now_ns), kZero, at_start);
    }
}

void Dispatcher::leave(pid_t pid, const std::map<pid_t, CounterValues>& totals,
                       std::uint64_t now_ns)
{
    const auto it = procs_.find(pid);
    if (it == procs_.end())
        return;
    Process& proc = it->second;
    const std::uint64_t now = advance(now_ns);
    std::vector<pid_t> tids;
    tids.swap(proc.threads);
    for (pid_t tid : tids) {
        const auto found = totals.find(tid);
        if (found == totals.end())
            proc.uncounted.insert(tid);
        deliver_lwp(Lwp::Fini, proc, pid, tid, now, found == totals.end() ? kZero : found->second);
    }
    procs_.erase(it);
    reconciled_.insert(pid);
    released(pid);
}

void Dispatcher::dispatch(const pctx_record& rec, std::size_t size)
{
    advance(rec.time_ns);
    adopt_if_unknown(rec);
    switch (rec.type) {
    case PCTX_REC_THREAD:
        on_thread(rec);
        break;
    case PCTX_REC_FORK:
        on_fork(rec);
        break;
    case PCTX_REC_EXEC:
        on_exec(rec, size);
        break;
    case PCTX_REC_EXIT:
        on_exit(rec);
        break;
    default:
        break;
    }
}

void Dispatcher::adopt_if_unknown(const pctx_record& rec)
{
    if (procs_.count(rec.pid) != 0 || rec.pid <= 0 || rec.tid <= 0)
        return;
    // The late record of a process reconcile() ended: already told.
    if (reconciled_.count(rec.pid) != 0)
        return;
    // A record of a thread that is not the process's end, from a process no
    // longer known, is a straggler of one that has ended: nothing to adopt.
    if (rec.type == PCTX_REC_EXIT && !(rec.flags & PCTX_EXIT_GROUP_DEAD))
        return;
    // Otherwise BPF still tracks it, so its fork record was lost (counted):
    // it joins here, from its first record on.
    Process& proc = procs_[rec.pid];
    proc.first_seen_ns = now_;
    proc.threads.push_back(rec.tid);
    if (rec.flags & PCTX_REC_UNCOUNTED)
        proc.uncounted.insert(rec.tid);
    deliver_lwp(Lwp::Init, proc, rec.pid, rec.tid, now_, kZero);
}

void Dispatcher::on_thread(const pctx_record& rec)
{
    const auto it = procs_.find(rec.pid);
    if (it == procs_.end() || rec.child <= 0)
        return;
    Process& proc = it->second;
    if (rec.flags & PCTX_REC_UNCOUNTED)
        proc.uncounted.insert(rec.child);
    // A thread born between tracking and the /proc listing is already known.
    if (!contains(proc.threads, rec.child)) {
        proc.threads.push_back(rec.child);
        deliver_lwp(Lwp::Init, proc, rec.pid, rec.child, now_, kZero);
    }
    deliver_lwp(Lwp::Create, proc, rec.pid, rec.child, now_, kZero);
}

void Dispatcher::on_fork(const pctx_record& rec)
{
    if (procs_.find(rec.pid) == procs_.end())
        return;
    const bool followed = (rec.flags & PCTX_FORK_UNTRACKED) == 0;
    // The child's pid still names a process whose end was lost: it is gone
    // (its pid was free to reuse), and ends here, before the new one starts.
    if (const auto old = procs_.find(rec.child); old != procs_.end())
        end_reconciled(old);
    reconciled_.erase(rec.child);
    const ForkEvent fork{rec.pid, rec.tid, rec.child, followed, now_};
    for (DispatchObserver* o : observers_)
        o->fork(fork);
    if (handlers_.fork)
        handlers_.fork(fork);
    if (!followed)
        return; // counted as a loss (tracked_full), reported with the others
    Process& child = procs_[rec.child];
    child.first_seen_ns = now_;
    child.threads.assign(1, rec.child);
    if (rec.flags & PCTX_REC_UNCOUNTED)
        child.uncounted.insert(rec.child);
    deliver_lwp(Lwp::Init, child, rec.child, rec.child, now_, kZero);
}

void Dispatcher::on_exec(const pctx_record& rec, std::size_t size)
{
    const auto it = procs_.find(rec.pid);
    if (it == procs_.end())
        return;
    Process& proc = it->second;

    ExecEvent ev;
    ev.pid = rec.pid;
    ev.tid = rec.child;
    if (ev.tid <= 0) // translated namespaces: the one thread that survived
        ev.tid = proc.threads.size() == 1 ? proc.threads.front() : rec.pid;
    ev.time_ns = now_;
    ev.truncated = (rec.flags & PCTX_EXEC_TRUNCATED) != 0;
    const std::size_t avail = size > sizeof(pctx_record) ? size - sizeof(pctx_record) : 0;
    const std::size_t len = std::min<std::size_t>(rec.args_len, avail);
    const char* args = reinterpret_cast<const char*>(&rec + 1);
    for (std::size_t pos = 0; pos < len;) {
        const char* start = args + pos;
        const auto* nul = static_cast<const char*>(std::memchr(start, '\0', len - pos));
        const std::size_t n = nul ? static_cast<std::size_t>(nul - start) : len - pos;
        ev.argv.emplace_back(start, n);
        pos += n + 1;
    }

    // The exec'ing thread's old-image totals, and the old image's as a whole.
    const CounterValues thread_total = record_values(rec);
    CounterValues image_total = proc.finished;
    if (!proc.awaiting_first_exec) {
        add(image_total, thread_total);
        fini_all(rec.pid, proc, now_, ev.tid, thread_total);
    }
    const bool first = proc.awaiting_first_exec;
    proc.awaiting_first_exec = false;
    proc.finished = kZero;
    for (DispatchObserver* o : observers_)
        o->exec(ev, image_total);
    deliver(handlers_.exec, ev, true, image_total);
    if (rec.flags & PCTX_EXEC_UNTRACKED) {
        procs_.erase(it);
        released(rec.pid);
        return;
    }
    proc.threads.assign(1, rec.pid);
    // The new image counts from zero, in the entry the exec'ing thread had.
    const bool was_counted = proc.uncounted.count(ev.tid) == 0 && !(rec.flags & PCTX_REC_UNCOUNTED);
    proc.uncounted.clear();
    if (!was_counted)
        proc.uncounted.insert(rec.pid);
    deliver_lwp(Lwp::Init, proc, rec.pid, rec.pid, now_, kZero, first);
}

void Dispatcher::on_exit(const pctx_record& rec)
{
    const auto it = procs_.find(rec.pid);
    if (it == procs_.end())
        return;
    Process& proc = it->second;
    if (rec.flags & PCTX_REC_UNCOUNTED)
        proc.uncounted.insert(rec.tid);
    const CounterValues values = record_values(rec);

    const bool caller = (rec.flags & PCTX_EXIT_CALLER) != 0;
    if (caller && proc.exit_caller == 0)
        proc.exit_caller = rec.tid;
    // Two threads exiting at once can both see signal->live at 0: the first
    // record ends the process, a second is an ordinary thread exit.
    const bool group_dead = (rec.flags & PCTX_EXIT_GROUP_DEAD) != 0 && !proc.dying;
    if (erase_tid(proc.threads, rec.tid)) {
        add(proc.finished, values);
        deliver_lwp(Lwp::Fini, proc, rec.pid, rec.tid, now_, values);
        // lwp_exit is for a thread that ended on its own: not one killed, not
        // the exit_group() caller, and not the last thread when its exit
        // ended the process. One that was already exiting when another
        // called exit_group() did end on its own, last or not.
        const bool ended_process = group_dead && !(rec.flags & PCTX_EXIT_GROUP_EXIT);
        if (!(rec.flags & PCTX_EXIT_ZAPPED) && !caller && !ended_process)
            deliver_lwp(Lwp::Exit, proc, rec.pid, rec.tid, now_, values);
        proc.uncounted.erase(rec.tid);
    }
    if (group_dead)
        proc.dying = ExitEvent{rec.pid, rec.tid, rec.code, now_};
    finish_if_done(it);
}

void Dispatcher::finish_if_done(std::map<pid_t, Process>::iterator it)
{
    Process& proc = it->second;
    if (!proc.dying || !proc.threads.empty())
        return;
    ExitEvent ev = *proc.dying;
    ev.time_ns = advance(ev.time_ns); // straggling thread records came after
    if (proc.exit_caller != 0)        // exit names the thread that ended the process
        ev.tid = proc.exit_caller;
    const CounterValues totals = proc.finished;
    if (ev.pid == root_)
        root_exit_ = ev;
    procs_.erase(it);
    forget_(ev.pid);
    for (DispatchObserver* o : observers_)
        o->exit(ev, totals);
    deliver(handlers_.exit, ev, true, totals);
}

void Dispatcher::fini_all(pid_t pid, Process& proc, std::uint64_t time_ns, pid_t known_tid,
                          const CounterValues& known)
{
    std::vector<pid_t> tids;
    tids.swap(proc.threads);
    // Any other thread is one whose own exit record has not come (yet): its
    // totals are unknown here, and the event says so.
    for (pid_t tid : tids) {
        if (tid != known_tid)
            proc.uncounted.insert(tid);
        deliver_lwp(Lwp::Fini, proc, pid, tid, time_ns, tid == known_tid ? known : kZero);
    }
}

void Dispatcher::end_reconciled(std::map<pid_t, Process>::iterator it)
{
    const pid_t pid = it->first;
    Process& proc = it->second;
    report("pid " + std::to_string(pid) +
           " is gone, its exit lost with the records the kernel could not deliver");
    const std::uint64_t now = advance(now_);
    // Threads whose records were lost: their totals are unknown.
    fini_all(pid, proc, now, 0, kZero);
    ExitEvent ev = proc.dying.value_or(ExitEvent{pid, pid, 0, now});
    ev.time_ns = now;
    if (!proc.dying)
        ev.reconciled = true;
    if (proc.exit_caller != 0)
        ev.tid = proc.exit_caller;
    const CounterValues totals = proc.finished;
    if (pid == root_)
        root_exit_ = ev;
    procs_.erase(it);
    forget_(pid);
    for (DispatchObserver* o : observers_)
        o->exit(ev, totals);
    deliver(handlers_.exit, ev, true, totals);
}

void Dispatcher::tick_all(std::uint64_t now_ns, const CounterSnapshot* snapshot)
{
    advance(now_ns);
    if (!handlers_.tick && observers_.empty())
        return;
    // A handler may end a process (stop, reconcile): walk a copy.
    std::vector<std::pair<pid_t, pid_t>> threads;
    for (const auto& [pid, proc] : procs_)
        for (pid_t tid : proc.threads)
            threads.emplace_back(pid, tid);
    for (const auto& [pid, tid] : threads) {
        const auto it = procs_.find(pid);
        if (it == procs_.end())
            continue;
        const Process& proc = it->second;
        if (!snapshot || proc.uncounted.count(tid) != 0) {
            deliver_lwp(Lwp::Tick, proc, pid, tid, now_, kZero);
            continue;
        }
        const auto found = snapshot->find(thread_key(pid, tid));
        if (found != snapshot->end())
            deliver_lwp(Lwp::Tick, proc, pid, tid, now_, found->second);
    }
}

bool Dispatcher::gone(pid_t pid, const Process& proc) const
{
    // A zombie has exited: its end is as good as told.
    if ((::kill(pid, 0) != 0 && errno == ESRCH) || process_state(pid) != ProcessState::Running)
        return true;
    // /proc counts in clock ticks: a start two ticks or more after our first
    // sight of the process is another process's.
    const std::uint64_t start = process_start_ns(pid);
    return start == 0 || (proc.first_seen_ns != 0 && start > proc.first_seen_ns + 20'000'000ULL);
}

bool Dispatcher::reconcile(std::uint64_t now_ns)
{
    bool noted = false;
    // Gone long enough that no record of it can still be on its way.
    auto long_gone = [&](std::uint64_t key) {
        const auto [at, fresh] = gone_since_.emplace(key, now_ns);
        if (now_ns - at->second >= kInFlightNs) {
            gone_since_.erase(at);
            return true;
        }
        noted = true;
        return false;
    };
    for (auto it = procs_.begin(); it != procs_.end();) {
        const pid_t pid = it->first;
        if (!it->second.dying && gone(pid, it->second)) {
            if (long_gone(thread_key(pid, 0))) {
                reconciled_.insert(pid);
                end_reconciled(it++);
            } else {
                ++it;
            }
            continue;
        }
        Process& proc = it->second;
        std::vector<pid_t> gone;
        for (pid_t tid : proc.threads)
            if (!thread_exists(pid, tid) && long_gone(thread_key(pid, tid)))
                gone.push_back(tid);
        for (pid_t tid : gone) {
            erase_tid(proc.threads, tid);
            proc.uncounted.insert(tid); // its totals went with its record
            deliver_lwp(Lwp::Fini, proc, pid, tid, advance(now_), kZero);
            proc.uncounted.erase(tid);
        }
        // A dying process whose missing records were lost ends here.
        finish_if_done(it++);
    }
    if (!noted)
        gone_since_.clear();
    return noted;
}

std::uint64_t Dispatcher::advance(std::uint64_t time_ns)
{
    now_ = std::max(now_, time_ns);
    return now_;
}

void Dispatcher::report(const std::string& message) const
{
    if (handlers_.diagnostic)
        handlers_.diagnostic("run", message);
}

} // namespace pctx::detail
