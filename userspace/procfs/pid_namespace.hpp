// Pids as another pid namespace sees them (Options::pidns, run --pidns): from
// /proc/PID/status's NSpid, which lists a process's pid in each namespace
// from ours down to its own.
#pragma once

#include <sys/types.h>

#include <string>

namespace pctx::detail {

// /proc/HOLDER/ns/pid: the namespace HOLDER (our pid) lives in.
std::string pid_namespace_path(pid_t holder);

// pid (ours; a tid works too) as HOLDER's pid namespace sees it; 0 when that
// namespace cannot see it (pid lives outside it and its descendants).
pid_t pid_seen_from(pid_t pid, pid_t holder);

} // namespace pctx::detail
