// Helpers shared by the tests: paths of the target programs, event logs,
// process and BPF bookkeeping. No mocks: everything here observes the real
// kernel.
#pragma once

#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace testsupport {

// Absolute path of a program built from tests/targets.
std::string target(const std::string& name);
// Absolute path of the pctx-bpf CLI.
std::string cli();

struct Event {
    std::string kind; // init_lwp, fini_lwp, lwp_create, lwp_exit, fork, exec, exit, tick, lost
    pid_t pid = 0;
    pid_t tid = 0;
    pid_t child = 0;         // fork
    std::string args;        // exec: command line
    int wait_status = 0;     // exit
    std::uint64_t count = 0; // lost
};

// Records every event of a session, in delivery order.
class EventLog {
public:
    void attach_to(pctx::Session& session);
    const std::vector<Event>& events() const { return events_; }
    std::vector<Event> of_kind(const std::string& kind) const;
    std::size_t count(const std::string& kind) const;
    std::size_t count(const std::string& kind, pid_t pid) const;
    // Index of the first event matching at or after from, or npos.
    std::size_t find(const std::string& kind, pid_t pid, pid_t tid, std::size_t from = 0) const;
    std::string dump() const; // for failure messages

private:
    std::vector<Event> events_;
};

// Leak checks that hold while other tracers run on the machine: they look
// at the programs a given process holds, never at machine-wide totals.
// Ids of the BPF programs pid holds through its fds (programs and links).
std::set<std::uint32_t> bpf_programs_held_by(pid_t pid);
// Waits (bounded) until none of ids exists any more (the kernel frees a
// program an RCU grace period after its last reference goes); false on timeout.
bool bpf_programs_gone(const std::set<std::uint32_t>& ids);
// Waits (bounded) until every pctx program on the machine is held by some
// process: one that nobody holds was leaked (pinned, or held by a leftover
// kernel object). False on timeout.
bool no_orphan_pctx_programs();
// Entries in the BPF map named name that pid holds (through a map fd, or
// one of its programs), or -1 when it holds no such map.
long bpf_map_entries_held_by(pid_t pid, const std::string& name);
// Number of open file descriptors of this process.
std::size_t open_fds();
// Processes whose parent is this process (zombies included).
std::vector<pid_t> children_of_self();
// Processes whose parent is pid (zombies included).
std::vector<pid_t> children_of(pid_t pid);

bool alive(pid_t pid); // exists and is not a zombie
// The cgroup2 mount, mounted at /tmp/pctx-test-cgroup2 when the machine has
// none (a bare VM); throws when none can be made.
std::string cgroup2_mount();
// Waits (bounded) until pid is stopped (state T); false on timeout.
bool stopped_within(pid_t pid, std::chrono::milliseconds timeout);
// Waits, on pidfds, until every pid has exited; false on timeout.
bool wait_all_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);

// A child process with pipes to its stdin and from its stdout.
class Child {
public:
    explicit Child(const std::vector<std::string>& argv);
    ~Child(); // kills and reaps
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void send(const std::string& bytes);
    std::string read_line(); // blocks; "" at EOF
    void close_stdin();
    int wait(); // wait status

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    std::string buffered_;
};

} // namespace testsupport
