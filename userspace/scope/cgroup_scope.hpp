// What a cgroup v2 scope needs from the filesystem: the subtree root's id
// (the id BPF compares cgroups' ancestors with) and the processes in the
// subtree when a session starts. A machine-wide scope lists /proc instead.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pctx::detail {

struct CgroupRoot {
    std::uint64_t id = 0; // the kernel's cgroup id (kernfs node id)
    std::string path;     // as given, for messages
};

// Resolves a cgroup v2 directory. Throws std::invalid_argument with a
// message fit for the user when path is not one.
CgroupRoot open_cgroup(const std::string& path);

// The processes of the subtree at root.path now (each cgroup.procs below
// it), in no particular order; a cgroup removed meanwhile is skipped.
std::vector<pid_t> cgroup_processes(const CgroupRoot& root);

// Every process this pid namespace's /proc shows, kernel threads excluded.
std::vector<pid_t> all_processes();

} // namespace pctx::detail
