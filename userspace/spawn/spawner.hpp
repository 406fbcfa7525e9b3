// Starts a command so that it can be tracked before it runs, and so that its
// whole process tree dies with the session, even if this process is killed.
//
//   loader ──fork──> supervisor (child subreaper) ──fork──> target
//
// The target waits on a pipe until start(), then execs. The supervisor adopts
// every orphan of the tree and, when its control pipe reaches EOF (release,
// or the loader's death, SIGKILL included), kills the tree generation by
// generation until it has no children left.
#pragma once

#include "common/unique_fd.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace pctx::detail {

class Spawner {
public:
    // path is the resolved program, argv its full argument vector.
    // Throws std::runtime_error when the processes cannot be created.
    Spawner(const std::string& path, const std::vector<std::string>& argv);
    ~Spawner();
    Spawner(const Spawner&) = delete;
    Spawner& operator=(const Spawner&) = delete;

    pid_t target() const { return target_; }
    pid_t supervisor() const { return supervisor_; }

    // Lets the target exec; returns 0, or the errno its exec failed with.
    int start();

    // Kills every process of the tree and reaps the supervisor. Idempotent.
    void kill_tree() noexcept;

    // How many times the supervisor scanned /proc to tear the tree down
    // (after kill_tree(); 0 if it did not say): one per generation.
    unsigned teardown_scans() const { return teardown_scans_; }

private:
    pid_t supervisor_ = -1;
    pid_t target_ = -1;
    UniqueFd control_;  // EOF tells the supervisor to kill the tree
    UniqueFd go_;       // a byte lets the target exec
    UniqueFd exec_err_; // the target's exec errno, or EOF on success
    UniqueFd report_;   // the supervisor's scan count as it exits
    unsigned teardown_scans_ = 0;
};

} // namespace pctx::detail
