#include "scope/cgroup_scope.hpp"

#include "procfs/procfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace pctx::detail {
namespace {

bool is_pid(const char* name)
{
    if (*name == '\0')
        return false;
    for (const char* c = name; *c; ++c)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

void collect(const std::string& dir, std::vector<pid_t>& out, int depth)
{
    std::ifstream procs(dir + "/cgroup.procs");
    for (pid_t pid = 0; procs >> pid;)
        out.push_back(pid);
    // Deeper than the kernel lets anyone nest in practice: a loop guard.
    if (depth > 64)
        return;
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return; // removed meanwhile
    while (const dirent* e = ::readdir(d)) {
        if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 ||
            std::strcmp(e->d_name, "..") == 0)
            continue;
        collect(dir + "/" + e->d_name, out, depth + 1);
    }
    ::closedir(d);
}

} // namespace

CgroupRoot open_cgroup(const std::string& path)
{
    struct statfs fs {};
    if (path.empty() || ::statfs(path.c_str(), &fs) != 0)
        throw std::invalid_argument(
            "cgroup '" + path + "': " + (path.empty() ? "no path given" : std::strerror(errno)) +
            " (give a cgroup v2 directory, such as one under "
            "/sys/fs/cgroup)");
    struct stat st {};
    if (fs.f_type != CGROUP2_SUPER_MAGIC || ::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::invalid_argument("cgroup '" + path +
                                    "': not a cgroup v2 directory (cgroup v1 hierarchies cannot be "
                                    "scoped; find cgroup2 with: findmnt -t cgroup2)");
    // A cgroup's id is its directory's kernfs node id, which is what a file
    // handle on cgroup2 holds (as libbpf-tools' get_cgroup_id reads it).
    alignas(file_handle) unsigned char buf[sizeof(file_handle) + sizeof(std::uint64_t)] = {};
    auto* fh = reinterpret_cast<file_handle*>(buf);
    fh->handle_bytes = sizeof(std::uint64_t);
    int mount_id = 0;
    if (::name_to_handle_at(AT_FDCWD, path.c_str(), fh, &mount_id, 0) != 0)
        throw std::invalid_argument("cgroup '" + path +
                                    "': cannot read its cgroup id: " + std::strerror(errno));
    std::uint64_t id = 0;
    std::memcpy(&id, buf + sizeof(file_handle), sizeof(id));
    return CgroupRoot{id, path};
}

std::vector<pid_t> cgroup_processes(const CgroupRoot& root)
{
    std::vector<pid_t> out;
    collect(root.path, out, 0);
    return out;
}

std::vector<pid_t> all_processes()
{
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d)
        throw std::runtime_error(std::string("cannot list /proc: ") + std::strerror(errno));
    while (const dirent* e = ::readdir(d)) {
        if (!is_pid(e->d_name))
            continue;
        const auto pid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
        if (process_state(pid) == ProcessState::Running)
            out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

} // namespace pctx::detail
