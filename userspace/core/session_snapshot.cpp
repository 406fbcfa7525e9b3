// Session::snapshot(): a copy of the accounting model (accounting/), and
// how the model names a process it first meets without a fork or exec.
#include "core/session_impl.hpp"
#include "procfs/procfs.hpp"

namespace pctx {

std::string Session::Impl::proc_name(pid_t reported) const
{
    // Under Options::pidns events name a captured process by that
    // namespace's pid: its /proc entry here is the pid given to attach().
    pid_t ours = reported;
    if (options.pidns != 0)
        for (pid_t pid : target.captured_pids())
            if (pid_seen_from(pid, options.pidns) == reported)
                ours = pid;
    return detail::command_line(ours);
}

Snapshot Session::snapshot(pid_t pid) const
{
    // counter_names changes only before the first run(): read as is.
    Snapshot s = impl_->accounting.model().snapshot(impl_->counter_names.size(), pid);
    s.counter_names = impl_->counter_names;
    return s;
}

} // namespace pctx
