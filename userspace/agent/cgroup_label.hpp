// Labels of a process as the agent sees it: its cgroup v2 path (the "0::"
// line of /proc/PID/cgroup), the container id that path names, its comm.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace pctx::detail {

// The path under the cgroup root ("/system.slice/docker-<id>.scope"), or
// nothing when the process is gone or has no cgroup v2 line.
std::optional<std::string> cgroup_of(pid_t pid);
// /proc/PID/comm without its newline, or nothing when the process is gone.
std::optional<std::string> comm_of(pid_t pid);
// The 64-hex container id a cgroup path names (docker, containerd, cri-o,
// podman, systemd or cgroupfs drivers), or "" when it names none.
std::string container_id_of(const std::string& cgroup_path);
// What the kernel makes the comm of an exec'd program: the basename of its
// path, cut to 15 characters (argv[0] stands for the path).
std::string comm_from_argv0(const std::string& argv0);

} // namespace pctx::detail
