#include "agent/cgroup_label.hpp"

#include <algorithm>
#include <fstream>
#include <vector>

namespace pctx::detail {
namespace {

bool is_hex64(const std::string& s)
{
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// A path segment with the runtimes' prefixes and systemd's ".scope" taken off.
std::string bare(std::string segment)
{
    const std::string scope = ".scope";
    if (segment.size() > scope.size() &&
        segment.compare(segment.size() - scope.size(), scope.size(), scope) == 0)
        segment.resize(segment.size() - scope.size());
    // Longest first: "libpod-conmon-" before "libpod-", "crio-conmon-" before "crio-".
    for (const char* prefix : {"cri-containerd-", "libpod-conmon-", "crio-conmon-", "docker-",
                               "libpod-", "crio-", "containerd-"}) {
        const std::string p(prefix);
        if (segment.compare(0, p.size(), p) == 0)
            return segment.substr(p.size());
    }
    return segment;
}

} // namespace

std::optional<std::string> cgroup_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line.compare(0, 3, "0::") == 0)
            return line.substr(3);
    return std::nullopt;
}

std::optional<std::string> comm_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    if (!std::getline(in, comm))
        return std::nullopt;
    return comm;
}

std::string container_id_of(const std::string& cgroup_path)
{
    // The deepest segment that is an id: a pod's cgroup holds its containers'.
    std::vector<std::string> segments;
    std::string::size_type start = 0;
    while (start <= cgroup_path.size()) {
        const auto slash = cgroup_path.find('/', start);
        const auto end = slash == std::string::npos ? cgroup_path.size() : slash;
        if (end > start)
            segments.push_back(cgroup_path.substr(start, end - start));
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        std::string id = bare(*it);
        if (is_hex64(id))
            return id;
    }
    return "";
}

std::string comm_from_argv0(const std::string& argv0)
{
    const auto slash = argv0.rfind('/');
    std::string base = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
    if (base.size() > 15) // TASK_COMM_LEN - 1
        base.resize(15);
    return base;
}

} // namespace pctx::detail
