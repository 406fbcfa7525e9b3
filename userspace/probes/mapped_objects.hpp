// The ELF objects mapped into a process, found in /proc/PID/maps and reached
// through /proc/PID/root (or /proc/PID/map_files), so a target in another
// mount namespace works without setns.
#pragma once

#include "common/unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pctx::detail {

struct MappedObject {
    std::string name;            // the path the target sees
    std::string attach_path;     // a path that names the same file here
    UniqueFd fd;                 // open on it, close-on-exec
    std::uint64_t text_base = 0; // address of its mapping at file offset 0
};

// The file-backed mappings of pid, one per object. Objects that cannot be
// opened are skipped through diag. Throws std::system_error(ESRCH) when pid
// is gone and (EACCES) when its maps cannot be read.
std::vector<MappedObject> mapped_objects(pid_t pid,
                                         const std::function<void(const std::string&)>& diag);

// The text of /proc/PID/maps ("" when unreadable): compared between scans.
std::string read_maps(pid_t pid);

} // namespace pctx::detail
