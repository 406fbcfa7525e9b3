// /proc/PID/maps to objects. Paths resolve through /proc/PID/root; when the
// same file is visible at the same path here, that plain path is kept:
// libbpf 1.1 matches it against /proc/PID/maps on kernels without BPF
// cookies (before 5.15) and finds nothing for a /proc/PID/root/... path.
#include "probes/mapped_objects.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace pctx::detail {

namespace {

struct MapLine {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t pgoff = 0;
    unsigned dev_major = 0;
    unsigned dev_minor = 0;
    std::uint64_t inode = 0;
    std::string path;
};

bool parse_line(const std::string& line, MapLine& m)
{
    char perms[8];
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
                    &m.start, &m.end, perms, &m.pgoff, &m.dev_major, &m.dev_minor, &m.inode,
                    &path_at) < 7)
        return false;
    m.path = line.substr(static_cast<std::size_t>(path_at));
    return !m.path.empty() && m.path[0] == '/' && m.inode != 0;
}

bool same_file(int fd, const MapLine& m)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_ino == m.inode && major(st.st_dev) == m.dev_major &&
           minor(st.st_dev) == m.dev_minor;
}

} // namespace

std::string read_maps(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<MappedObject> mapped_objects(pid_t pid,
                                         const std::function<void(const std::string&)>& diag)
{
    const std::string proc = "/proc/" + std::to_string(pid);
    std::ifstream in(proc + "/maps");
    if (!in) {
        const int err = errno;
        struct stat st {};
        throw std::system_error(::stat(proc.c_str(), &st) == 0 ? (err ? err : EACCES) : ESRCH,
                                std::generic_category(), proc + "/maps");
    }
    // Lowest mapping of each object, keyed by its path.
    std::map<std::string, MapLine> first;
    std::vector<std::string> order;
    for (std::string line; std::getline(in, line);) {
        MapLine m;
        if (!parse_line(line, m))
            continue;
        auto [it, added] = first.emplace(m.path, m);
        if (added)
            order.push_back(m.path);
        else if (m.pgoff == 0 && (it->second.pgoff != 0 || m.start < it->second.start))
            it->second = m;
    }
    if (order.empty()) {
        struct stat st {};
        if (::stat(proc.c_str(), &st) != 0)
            throw std::system_error(ESRCH, std::generic_category(), proc);
    }
    std::vector<MappedObject> objects;
    for (const auto& path : order) {
        const MapLine& m = first[path];
        MappedObject obj;
        obj.name = path;
        obj.text_base = m.start - m.pgoff;
        // Here first, then through the target's root, then map_files (a
        // deleted or replaced file; needs CAP_SYS_ADMIN).
        char range[64];
        std::snprintf(range, sizeof(range), "/map_files/%" PRIx64 "-%" PRIx64, m.start, m.end);
        std::string in_root = proc;
        in_root += "/root";
        in_root += path;
        std::string map_file = proc;
        map_file += range;
        for (const std::string& candidate : {path, in_root, map_file}) {
            UniqueFd fd(::open(candidate.c_str(), O_RDONLY | O_CLOEXEC));
            if (fd && same_file(fd.get(), m)) {
                obj.attach_path = candidate;
                obj.fd = std::move(fd);
                break;
            }
        }
        if (!obj.fd) {
            std::string message = path;
            message += ": cannot open it from here, through " + proc;
            message += "/root, nor through map_files; its probes are not listed";
            diag(message);
            continue;
        }
        objects.push_back(std::move(obj));
    }
    return objects;
}

} // namespace pctx::detail
