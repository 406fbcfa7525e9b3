#include "cli/event_rows.hpp"

#include <cstdio>

namespace pctx::cli {

Row EventRows::row(const char* event, pid_t pid, pid_t tid, std::uint64_t time_ns)
{
    Row r;
    r.event = event;
    r.pid = pid;
    r.tid = tid;
    r.time_ns = time_ns;
    if (pid > 0)
        r.command = command(pid);
    return r;
}

const std::string& EventRows::command(pid_t pid)
{
    const auto it = commands_.find(pid);
    if (it != commands_.end())
        return it->second;
    const Snapshot s = session_->snapshot(pid);
    return commands_[pid] = s.processes.empty() ? std::string() : s.processes.front().command;
}

Row EventRows::row(const char* event, const LwpEvent& ev)
{
    Row r = row(event, ev.pid, ev.tid, ev.time_ns);
    r.uncounted = ev.uncounted && counters_.enabled();
    return r;
}

void EventRows::install(Session& session)
{
    session_ = &session;
    Handlers& h = session.handlers();
    h.init_lwp = [this](const LwpEvent& ev) {
        Row r = row("init_lwp", ev);
        if (!r.uncounted)
            r.counters = counters_.thread_started(ev.pid, ev.tid);
        emit_(r);
    };
    h.fini_lwp = [this](const LwpEvent& ev) {
        Row r = row("fini_lwp", ev);
        if (!r.uncounted)
            r.counters = counters_.thread_finished(ev.pid, ev.tid);
        emit_(r);
    };
    h.lwp_create = [this](const LwpEvent& ev) {
        emit_(row("lwp_create", ev));
    };
    h.lwp_exit = [this](const LwpEvent& ev) {
        Row r = row("lwp_exit", ev);
        if (!r.uncounted)
            r.counters = counters_.thread_totals(ev.pid, ev.tid);
        emit_(r);
    };
    h.tick = [this](const LwpEvent& ev) {
        Row r = row("tick", ev);
        if (r.uncounted) {
            emit_(r);
            return;
        }
        CounterTracker::Sample s = counters_.tick(ev.pid, ev.tid, ev.time_ns);
        r.set = s.set;
        r.counters = std::move(s.totals);
        r.deltas = std::move(s.deltas);
        emit_(r);
    };
    h.fork = [this](const ForkEvent& ev) {
        commands_.erase(ev.child_pid);
        Row r = row("fork", ev.pid, ev.tid, ev.time_ns);
        r.child_pid = ev.child_pid;
        r.unfollowed = !ev.followed;
        emit_(r);
    };
    h.exec = [this](const ExecEvent& ev) {
        // The old image's totals; the new image's counters start from zero.
        std::vector<CounterValue> old_totals = counters_.exec_totals(ev.pid, ev.tid);
        commands_.erase(ev.pid);
        Row r = row("exec", ev.pid, ev.tid, ev.time_ns);
        r.args = ev.argv;
        r.args_truncated = ev.truncated;
        r.counters = std::move(old_totals);
        emit_(r);
    };
    h.exit = [this](const ExitEvent& ev) {
        Row r = row("exit", ev.pid, ev.tid, ev.time_ns);
        r.status = ev.shell_status();
        r.signal = ev.signal();
        r.reconciled = ev.reconciled;
        r.counters = counters_.process_exit(ev.pid, ev.tid);
        summary_.set_exit_totals(ev.pid, counters_.process_totals(ev.pid));
        emit_(r);
        counters_.forget(ev.pid);
        commands_.erase(ev.pid);
    };
    h.probe = [this](const ProbeEvent& ev) {
        Row r = row("probe", ev.pid, ev.tid, ev.time_ns);
        r.probe = ev;
        emit_(r);
    };
    h.lost = [this](const LostEvent& ev) {
        Row r = row("lost", 0, 0, ev.time_ns);
        r.count = ev.count;
        r.lost = ev.by_kind;
        emit_(r);
    };
    h.diagnostic = [](const std::string&, const std::string& msg) {
        std::fprintf(stderr, "pctx-bpf: %s\n", msg.c_str());
    };
}

} // namespace pctx::cli
