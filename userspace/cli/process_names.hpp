// The command line of each traced process, as far as the events tell it: an
// exec's argv, a parent's for a forked child, /proc's for a captured process.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace pctx::cli {

class ProcessNames {
public:
    // The process's command line; a process not yet named is looked up in /proc.
    const std::string& of(pid_t pid);
    void exec(pid_t pid, const std::vector<std::string>& argv);
    void fork(pid_t parent, pid_t child);
    void forget(pid_t pid); // after its exit: the pid may come back as another process
    // Under run --pidns, events name a captured process by another
    // namespace's pid: its /proc entry is ours.
    static void proc_entry(pid_t reported, pid_t ours);

private:
    std::map<pid_t, std::string> names_;
};

} // namespace pctx::cli
