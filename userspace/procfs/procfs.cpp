#include "procfs/procfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

namespace pctx::detail {
namespace {

constexpr unsigned long kPfKthread = 0x00200000; // include/linux/sched.h PF_KTHREAD

std::string proc_path(pid_t pid, const char* leaf)
{
    return "/proc/" + std::to_string(pid) + "/" + leaf;
}

} // namespace

ProcessState process_state(pid_t pid)
{
    if (pid <= 0)
        return ProcessState::Missing;
    std::ifstream stat(proc_path(pid, "stat"));
    std::string line;
    if (!std::getline(stat, line))
        return ProcessState::Missing;
    // Fields after the command, which may hold spaces and parentheses.
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return ProcessState::Missing;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    rest >> state;
    if (state == "Z" || state == "X")
        return ProcessState::Zombie;
    std::string field;
    for (int i = 0; i < 5; ++i) // ppid pgrp session tty_nr tpgid
        rest >> field;
    unsigned long flags = 0;
    rest >> flags;
    if (flags & kPfKthread)
        return ProcessState::KernelThread;
    return ProcessState::Running;
}

std::uint64_t process_start_ns(pid_t pid)
{
    std::ifstream stat(proc_path(pid, "stat"));
    std::string line;
    if (!std::getline(stat, line))
        return 0;
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return 0;
    // Fields 3.. after the command; starttime is field 22.
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 3; i < 22; ++i)
        rest >> field;
    unsigned long long ticks = 0;
    if (!(rest >> ticks))
        return 0;
    const long hz = ::sysconf(_SC_CLK_TCK);
    // Since boot (CLOCK_BOOTTIME): move it to the monotonic clock.
    timespec boot{}, mono{};
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    const auto ns = [](const timespec& t) {
        return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
    };
    const long long start = static_cast<long long>(ticks) * (1000000000LL / (hz > 0 ? hz : 100)) -
                            (ns(boot) - ns(mono));
    return start > 0 ? static_cast<std::uint64_t>(start) : 1;
}

bool may_observe(pid_t pid)
{
    // Opening environ runs the kernel's ptrace read-access check for us.
    const int fd = ::open(proc_path(pid, "environ").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return true;
    }
    return errno != EACCES && errno != EPERM;
}

std::string command_line(pid_t pid)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/";
    std::ifstream cmdline(dir + "cmdline", std::ios::binary);
    std::string line((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    while (!line.empty() && line.back() == '\0')
        line.pop_back();
    std::replace(line.begin(), line.end(), '\0', ' ');
    if (!line.empty())
        return line;
    std::ifstream comm(dir + "comm");
    std::getline(comm, line);
    return line;
}

std::vector<pid_t> list_threads(pid_t pid)
{
    std::vector<pid_t> tids;
    DIR* dir = ::opendir(proc_path(pid, "task").c_str());
    if (!dir)
        return tids;
    while (const dirent* ent = ::readdir(dir)) {
        char* end = nullptr;
        const long tid = std::strtol(ent->d_name, &end, 10);
        if (end != ent->d_name && *end == '\0' && tid > 0)
            tids.push_back(static_cast<pid_t>(tid));
    }
    ::closedir(dir);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::string thread_not_process(pid_t pid)
{
    if (pid <= 0)
        return {};
    std::ifstream status(proc_path(pid, "status"));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Tgid:", 0) != 0)
            continue;
        const long tgid = std::strtol(line.c_str() + 5, nullptr, 10);
        if (tgid <= 0 || tgid == pid)
            return {};
        const std::string p = std::to_string(tgid);
        std::string why = "pid " + std::to_string(pid);
        why += " is a thread of process " + p;
        why += ": capture process " + p;
        why += " (-p " + p + ")";
        return why;
    }
    return {};
}

std::string program_not_found(const std::string& name)
{
    std::string missing = "cannot find program '" + name + "'";
    std::string path;
    if (find_program(name, path) != 0)
        return missing;
    // The program is there: exec's ENOENT is about its "#!" interpreter.
    std::ifstream file(path, std::ios::binary);
    std::string line;
    if (!std::getline(file, line) || line.rfind("#!", 0) != 0)
        return missing;
    const auto start = line.find_first_not_of(" \t", 2);
    if (start == std::string::npos)
        return missing;
    const auto end = line.find_first_of(" \t\r", start);
    const std::string interpreter =
        line.substr(start, end == std::string::npos ? end : end - start);
    return "cannot run program '" + name + "': its interpreter '" + interpreter + "' doesn't exist";
}

int find_program(const std::string& name, std::string& path)
{
    auto check = [](const std::string& candidate) {
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0)
            return errno;
        if (S_ISDIR(st.st_mode))
            return EISDIR;
        if (::access(candidate.c_str(), X_OK) != 0)
            return errno;
        return 0;
    };
    if (name.empty())
        return ENOENT;
    if (name.find('/') != std::string::npos) {
        path = name;
        return check(name);
    }
    const char* env = std::getenv("PATH");
    const std::string dirs = env ? env : "/usr/local/bin:/usr/bin:/bin";
    int found_err = ENOENT;
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto colon = dirs.find(':', start);
        std::string dir =
            dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty())
            dir = ".";
        std::string candidate = std::move(dir);
        candidate += '/';
        candidate += name;
        const int err = check(candidate);
        if (err == 0) {
            path = candidate;
            return 0;
        }
        if (err != ENOENT && err != ENOTDIR)
            found_err = err; // exists but cannot run; keep looking like execvp
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    return found_err;
}

} // namespace pctx::detail
