// Turns the kernel's lifecycle records into libpctx's events, in libpctx's
// order, and keeps the model of which processes and threads are alive that
// ticks and fini_lwp need.
#pragma once

#include "lifecycle.h"
#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pctx::detail {

class Dispatcher {
public:
    explicit Dispatcher(const Handlers& handlers) : handlers_(handlers) {}

    // A spawned command, tracked but not yet exec'd: it gets exec then init_lwp.
    void add_spawned(pid_t pid);
    // A captured process: init_lwp for each thread it has now.
    void add_captured(pid_t pid, const std::vector<pid_t>& tids, std::uint64_t now_ns);

    void dispatch(const pctx_record& rec, std::size_t size);
    // tick for every live thread of every tracked process.
    void tick_all(std::uint64_t now_ns);
    // Forgets processes and threads that are gone without a record (after a loss).
    void reconcile();

    bool empty() const { return procs_.empty(); }
    std::size_t process_count() const { return procs_.size(); }
    void set_root(pid_t pid) { root_ = pid; }
    const std::optional<ExitEvent>& root_exit() const { return root_exit_; }

private:
    struct Process {
        std::vector<pid_t> threads; // in the order they were seen
        bool awaiting_first_exec = false;
    };

    void on_thread(const pctx_record& rec);
    void on_fork(const pctx_record& rec);
    void on_exec(const pctx_record& rec, std::size_t size);
    void on_exit(const pctx_record& rec);
    void fini_all(pid_t pid, Process& proc, std::uint64_t time_ns);
    void report(const std::string& message) const;

    const Handlers& handlers_;
    std::map<pid_t, Process> procs_;
    pid_t root_ = 0;
    std::optional<ExitEvent> root_exit_;
};

} // namespace pctx::detail
