#include "support/test_support.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <thread>
#include <sstream>
#include <stdexcept>

namespace testsupport {

std::string target(const std::string& name)
{
    return std::string(PCTX_TARGETS_DIR) + "/" + name;
}
std::string cli()
{
    return PCTX_CLI;
}

void EventLog::attach_to(pctx::Session& session)
{
    auto& h = session.handlers();
    auto lwp = [this](const char* kind) {
        return [this, kind](const pctx::LwpEvent& ev) {
            events_.push_back(Event{kind, ev.pid, ev.tid, 0, {}, 0, 0});
        };
    };
    h.init_lwp = lwp("init_lwp");
    h.fini_lwp = lwp("fini_lwp");
    h.lwp_create = lwp("lwp_create");
    h.lwp_exit = lwp("lwp_exit");
    h.tick = lwp("tick");
    h.fork = [this](const pctx::ForkEvent& ev) {
        events_.push_back(Event{"fork", ev.pid, ev.tid, ev.child_pid, {}, 0, 0});
    };
    h.exec = [this](const pctx::ExecEvent& ev) {
        events_.push_back(Event{"exec", ev.pid, ev.tid, 0, ev.command_line(), 0, 0});
    };
    h.exit = [this](const pctx::ExitEvent& ev) {
        events_.push_back(Event{"exit", ev.pid, ev.tid, 0, {}, ev.wait_status, 0});
    };
    h.lost = [this](const pctx::LostEvent& ev) {
        events_.push_back(Event{"lost", 0, 0, 0, {}, 0, ev.count});
    };
}

std::vector<Event> EventLog::of_kind(const std::string& kind) const
{
    std::vector<Event> out;
    for (const auto& e : events_)
        if (e.kind == kind)
            out.push_back(e);
    return out;
}

std::size_t EventLog::count(const std::string& kind) const
{
    return of_kind(kind).size();
}

std::size_t EventLog::count(const std::string& kind, pid_t pid) const
{
    std::size_t n = 0;
    for (const auto& e : events_)
        n += e.kind == kind && e.pid == pid;
    return n;
}

std::size_t EventLog::find(const std::string& kind, pid_t pid, pid_t tid, std::size_t from) const
{
    for (std::size_t i = from; i < events_.size(); ++i)
        if (events_[i].kind == kind && events_[i].pid == pid && events_[i].tid == tid)
            return i;
    return std::string::npos;
}

std::string EventLog::dump() const
{
    std::ostringstream os;
    for (const auto& e : events_) {
        os << e.kind << " pid=" << e.pid << " tid=" << e.tid;
        if (e.kind == "fork")
            os << " child=" << e.child;
        if (e.kind == "exec")
            os << " '" << e.args << "'";
        if (e.kind == "exit")
            os << " status=0x" << std::hex << e.wait_status << std::dec;
        if (e.kind == "lost")
            os << " count=" << e.count;
        os << "\n";
    }
    return os.str();
}

namespace {

bool within(std::chrono::milliseconds limit, const std::function<bool()>& cond)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

void add_held(const std::string& fdinfo_dir, std::set<std::uint32_t>& ids)
{
    DIR* d = ::opendir(fdinfo_dir.c_str());
    if (!d)
        return;
    while (const dirent* ent = ::readdir(d)) {
        if (ent->d_name[0] < '0' || ent->d_name[0] > '9')
            continue;
        std::ifstream info(fdinfo_dir + "/" + ent->d_name);
        std::string line;
        while (std::getline(info, line))
            if (line.rfind("prog_id:", 0) == 0)
                ids.insert(static_cast<std::uint32_t>(std::stoul(line.substr(8))));
    }
    ::closedir(d);
}

std::set<std::uint32_t> pctx_program_ids()
{
    std::set<std::uint32_t> ids;
    __u32 id = 0;
    while (bpf_prog_get_next_id(id, &id) == 0) {
        const int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0)
            continue;
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
            std::string(info.name).rfind("pctx_", 0) == 0)
            ids.insert(id);
        ::close(fd);
    }
    return ids;
}

} // namespace

std::set<std::uint32_t> bpf_programs_held_by(pid_t pid)
{
    std::set<std::uint32_t> ids;
    add_held("/proc/" + std::to_string(pid) + "/fdinfo", ids);
    return ids;
}

bool bpf_programs_gone(const std::set<std::uint32_t>& ids)
{
    return within(std::chrono::seconds(5), [&ids] {
        for (std::uint32_t id : ids) {
            const int fd = bpf_prog_get_fd_by_id(id);
            if (fd >= 0) {
                ::close(fd);
                return false;
            }
        }
        return true;
    });
}

long bpf_map_entries_held_by(pid_t pid, const std::string& name)
{
    std::set<std::uint32_t> maps;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    while (d) {
        const dirent* ent = ::readdir(d);
        if (!ent)
            break;
        std::ifstream info(dir + "/" + ent->d_name);
        std::string line;
        while (std::getline(info, line))
            if (line.rfind("map_id:", 0) == 0)
                maps.insert(static_cast<std::uint32_t>(std::stoul(line.substr(7))));
    }
    if (d)
        ::closedir(d);
    for (std::uint32_t id : maps) {
        const int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0)
            continue;
        bpf_map_info info{};
        __u32 len = sizeof(info);
        long n = -1;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && name == info.name) {
            std::vector<unsigned char> key(info.key_size), next(info.key_size);
            n = 0;
            for (void* k = nullptr; bpf_map_get_next_key(fd, k, next.data()) == 0; k = key.data()) {
                key.swap(next);
                ++n;
            }
        }
        ::close(fd);
        if (n >= 0)
            return n;
    }
    return -1;
}

bool no_orphan_pctx_programs()
{
    return within(std::chrono::seconds(5), [] {
        std::set<std::uint32_t> orphans = pctx_program_ids();
        if (orphans.empty())
            return true;
        std::set<std::uint32_t> held;
        DIR* proc = ::opendir("/proc");
        while (proc) {
            const dirent* ent = ::readdir(proc);
            if (!ent)
                break;
            if (ent->d_name[0] >= '1' && ent->d_name[0] <= '9')
                add_held(std::string("/proc/") + ent->d_name + "/fdinfo", held);
        }
        if (proc)
            ::closedir(proc);
        for (std::uint32_t id : held)
            orphans.erase(id);
        return orphans.empty();
    });
}

std::size_t open_fds()
{
    std::size_t n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (d && ::readdir(d))
        ++n;
    if (d)
        ::closedir(d);
    return n;
}

std::vector<pid_t> children_of_self()
{
    return children_of(::getpid());
}

std::vector<pid_t> children_of(pid_t pid)
{
    std::vector<pid_t> kids;
    const std::string self = std::to_string(pid);
    DIR* d = ::opendir("/proc");
    while (d) {
        const dirent* ent = ::readdir(d);
        if (!ent)
            break;
        if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
            continue;
        std::ifstream stat(std::string("/proc/") + ent->d_name + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == self)
            kids.push_back(std::stoi(ent->d_name));
    }
    if (d)
        ::closedir(d);
    return kids;
}

bool alive(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return false;
    const auto close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z' &&
           line[close + 2] != 'X';
}

bool stopped_within(pid_t pid, std::chrono::milliseconds timeout)
{
    return within(timeout, [pid] {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            return false;
        const auto close = line.rfind(')');
        return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'T';
    });
}

bool wait_all_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (pid_t pid : pids) {
        const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (fd < 0)
            continue; // already gone
        for (;;) {
            // A zombie's pidfd is readable; so is a reaped process's.
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
            if (r < 0 && errno == EINTR)
                continue;
            ::close(fd);
            if (r != 1)
                return false;
            break;
        }
    }
    return true;
}

Child::Child(const std::vector<std::string>& argv)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe");
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
}

Child::~Child()
{
    if (in_ >= 0)
        ::close(in_);
    if (out_ >= 0)
        ::close(out_);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void Child::send(const std::string& bytes)
{
    if (::write(in_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("write to child");
}

std::string Child::read_line()
{
    for (;;) {
        const auto nl = buffered_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        char buf[256];
        const ssize_t n = ::read(out_, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return {};
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
}

void Child::close_stdin()
{
    if (in_ >= 0)
        ::close(in_);
    in_ = -1;
}

int Child::wait()
{
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

std::string cgroup2_mount()
{
    std::ifstream mounts("/proc/self/mounts");
    std::string dev, dir, type, rest;
    while (mounts >> dev >> dir >> type && std::getline(mounts, rest))
        if (type == "cgroup2")
            return dir;
    std::string here = "/tmp/pctx-test-cgroup2";
    ::mkdir(here.c_str(), 0755);
    if (::mount("cgroup2", here.c_str(), "cgroup2", 0, nullptr) != 0)
        throw std::runtime_error("no cgroup2 mount and none can be made at " + here);
    return here;
}

} // namespace testsupport
