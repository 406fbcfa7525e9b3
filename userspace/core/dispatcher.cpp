#include "core/dispatcher.hpp"

#include <signal.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace pctx::detail {
namespace {

template <typename Fn, typename Ev> void call(const Fn& fn, const Ev& ev)
{
    if (fn)
        fn(ev);
}

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

} // namespace

void Dispatcher::add_spawned(pid_t pid)
{
    procs_[pid].awaiting_first_exec = true;
}

void Dispatcher::add_captured(pid_t pid, const std::vector<pid_t>& tids, std::uint64_t now_ns)
{
    Process& proc = procs_[pid];
    for (pid_t tid : tids) {
        if (contains(proc.threads, tid))
            continue;
        proc.threads.push_back(tid);
        call(handlers_.init_lwp, LwpEvent{pid, tid, now_ns});
    }
}

void Dispatcher::dispatch(const pctx_record& rec, std::size_t size)
{
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

void Dispatcher::on_thread(const pctx_record& rec)
{
    const auto it = procs_.find(rec.pid);
    if (it == procs_.end() || rec.child <= 0)
        return;
    // A thread born between tracking and the /proc listing is already known.
    if (!contains(it->second.threads, rec.child)) {
        it->second.threads.push_back(rec.child);
        call(handlers_.init_lwp, LwpEvent{rec.pid, rec.child, rec.time_ns});
    }
    call(handlers_.lwp_create, LwpEvent{rec.pid, rec.child, rec.time_ns});
}

void Dispatcher::on_fork(const pctx_record& rec)
{
    if (procs_.find(rec.pid) == procs_.end())
        return;
    call(handlers_.fork, ForkEvent{rec.pid, rec.tid, rec.child, rec.time_ns});
    if (rec.flags & PCTX_FORK_UNTRACKED) {
        report("cannot follow pid " + std::to_string(rec.child) +
               ": the tracked-process map is full (raise Options::max_processes)");
        return;
    }
    Process& child = procs_[rec.child];
    child.threads.assign(1, rec.child);
    call(handlers_.init_lwp, LwpEvent{rec.child, rec.child, rec.time_ns});
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
    ev.time_ns = rec.time_ns;
    ev.truncated = (rec.flags & PCTX_EXEC_TRUNCATED) != 0;
    const std::size_t avail = size > sizeof(pctx_record) ? size - sizeof(pctx_record) : 0;
    const std::size_t len = std::min<std::size_t>(rec.args_len, avail);
    for (std::size_t pos = 0; pos < len;) {
        const char* start = reinterpret_cast<const char*>(&rec + 1) + pos;
        const auto* nul = static_cast<const char*>(std::memchr(start, '\0', len - pos));
        const std::size_t n = nul ? static_cast<std::size_t>(nul - start) : len - pos;
        ev.argv.emplace_back(start, n);
        pos += n + 1;
    }

    if (!proc.awaiting_first_exec)
        fini_all(rec.pid, proc, rec.time_ns);
    proc.awaiting_first_exec = false;
    call(handlers_.exec, ev);
    if (rec.flags & PCTX_EXEC_UNTRACKED) {
        procs_.erase(it);
        return;
    }
    proc.threads.assign(1, rec.pid);
    call(handlers_.init_lwp, LwpEvent{rec.pid, rec.pid, rec.time_ns});
}

void Dispatcher::on_exit(const pctx_record& rec)
{
    const auto it = procs_.find(rec.pid);
    if (it == procs_.end())
        return;
    Process& proc = it->second;
    const LwpEvent lwp{rec.pid, rec.tid, rec.time_ns};

    if (rec.flags & PCTX_EXIT_GROUP_DEAD) {
        // The exiting thread last, after any the kernel reaped first.
        if (erase_tid(proc.threads, rec.tid))
            proc.threads.push_back(rec.tid);
        fini_all(rec.pid, proc, rec.time_ns);
        ExitEvent ev{rec.pid, rec.tid, rec.code, rec.time_ns};
        if (rec.pid == root_)
            root_exit_ = ev;
        procs_.erase(it);
        call(handlers_.exit, ev);
        return;
    }
    if (!erase_tid(proc.threads, rec.tid))
        return; // never announced (exited before a capture listed it)
    call(handlers_.fini_lwp, lwp);
    if (!(rec.flags & PCTX_EXIT_ZAPPED))
        call(handlers_.lwp_exit, lwp);
}

void Dispatcher::fini_all(pid_t pid, Process& proc, std::uint64_t time_ns)
{
    std::vector<pid_t> tids;
    tids.swap(proc.threads);
    for (pid_t tid : tids)
        call(handlers_.fini_lwp, LwpEvent{pid, tid, time_ns});
}

void Dispatcher::tick_all(std::uint64_t now_ns)
{
    if (!handlers_.tick)
        return;
    for (const auto& [pid, proc] : procs_)
        for (pid_t tid : proc.threads)
            handlers_.tick(LwpEvent{pid, tid, now_ns});
}

void Dispatcher::reconcile()
{
    for (auto it = procs_.begin(); it != procs_.end();) {
        const pid_t pid = it->first;
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            report("pid " + std::to_string(pid) +
                   " is gone, its exit lost with the records the kernel could not deliver");
            it = procs_.erase(it);
            continue;
        }
        auto& tids = it->second.threads;
        tids.erase(std::remove_if(tids.begin(), tids.end(),
                                  [pid](pid_t tid) { return !thread_exists(pid, tid); }),
                   tids.end());
        ++it;
    }
}

void Dispatcher::report(const std::string& message) const
{
    if (handlers_.diagnostic)
        handlers_.diagnostic("run", message);
}

} // namespace pctx::detail
