#include "procfs/pid_namespace.hpp"

#include "common/unique_fd.hpp"
#include "pctx/pctx.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace pctx::detail {
namespace {

std::vector<pid_t> nspid(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::vector<pid_t> ids;
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("NSpid:", 0) != 0)
            continue;
        std::istringstream in(line.substr(6));
        for (pid_t id = 0; in >> id;)
            ids.push_back(id);
    }
    return ids;
}

ino_t inode_of(int fd)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

} // namespace

std::string pid_namespace_path(pid_t holder)
{
    return "/proc/" + std::to_string(holder) + "/ns/pid";
}

pid_t pid_seen_from(pid_t pid, pid_t holder)
{
    const std::vector<pid_t> ids = nspid(pid);
    const std::size_t depth = nspid(holder).size(); // holder's namespace is ids[depth - 1]
    if (depth == 0 || ids.size() < depth)
        return 0;
    // Same depth is not enough (a sibling namespace has it too): walk pid's
    // namespace up to that depth and compare it with holder's.
    UniqueFd ns(::open(pid_namespace_path(pid).c_str(), O_RDONLY | O_CLOEXEC));
    const UniqueFd want(::open(pid_namespace_path(holder).c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns || !want)
        return 0;
    for (std::size_t up = ids.size() - depth; up > 0; --up) {
        ns.reset(::ioctl(ns.get(), NS_GET_PARENT));
        if (!ns)
            return 0;
    }
    return inode_of(ns.get()) == inode_of(want.get()) ? ids[depth - 1] : 0;
}

} // namespace pctx::detail

namespace pctx {

pid_t pid_seen_from(pid_t pid, pid_t holder)
{
    return detail::pid_seen_from(pid, holder);
}

} // namespace pctx
