// What pctx-bpf reads from /proc and the filesystem about processes and
// programs, each answer as the caller's pid namespace sees it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pctx::detail {

enum class ProcessState { Missing, Zombie, KernelThread, Running };

ProcessState process_state(pid_t pid);

// True when this process may observe pid as perf and strace require
// (ptrace read access: same user, or CAP_SYS_PTRACE).
bool may_observe(pid_t pid);

// When the process now at pid started, in CLOCK_MONOTONIC ns (/proc's
// start time, to the clock tick); 0 when there is none.
std::uint64_t process_start_ns(pid_t pid);

// pid's command line as ps shows it (arguments joined by spaces), or its
// comm when it has none (a kernel thread, a zombie); empty if it is gone.
std::string command_line(pid_t pid);

// The thread ids of pid now, ascending; empty if it is gone.
std::vector<pid_t> list_threads(pid_t pid);

// When pid is a thread but not its process's leader (its /proc entry exists
// but is hidden from listings), what to say: "pid T is a thread of process P:
// capture process P (-p P)"; empty for a process or a missing pid.
std::string thread_not_process(pid_t pid);

// Why exec found no program (ENOENT): a script's missing interpreter is named
// ("cannot run program 'X': its interpreter '/I' doesn't exist"), anything
// else is "cannot find program 'X'".
std::string program_not_found(const std::string& name);

// Resolves a program as execvp(3) would. Returns 0 and the path, or an errno:
// ENOENT (not found) or EACCES/EISDIR (found, not executable).
int find_program(const std::string& name, std::string& path);

} // namespace pctx::detail
