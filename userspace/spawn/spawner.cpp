#include "spawn/spawner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

// Everything between fork() and exec()/_exit() below must be
// async-signal-safe: the loader may have other threads holding locks.
namespace pctx::detail {
namespace {

constexpr std::array<int, 6> kShieldedSignals{SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGPIPE};

[[noreturn]] void die(int status)
{
    ::_exit(status);
}

bool write_all(int fd, const void* buf, size_t len)
{
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
        const ssize_t n = ::write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

ssize_t read_full(int fd, void* buf, size_t len)
{
    char* p = static_cast<char*>(buf);
    size_t got = 0;
    while (got < len) {
        const ssize_t n = ::read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(got);
}

void close_from(unsigned first, unsigned last)
{
    if (first > last)
        return;
    if (::syscall(SYS_close_range, first, last, 0) == 0)
        return;
    // Kernels before 5.9: close one by one up to the descriptor limit.
    const long max = ::sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd <= static_cast<long>(last) && fd < max; ++fd)
        ::close(static_cast<int>(fd));
}

// Closes every descriptor above stderr except those in keep, so no BPF
// object or session of the loader stays open in the tree.
void close_all_but(std::array<int, 4> keep)
{
    std::sort(keep.begin(), keep.end());
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < 3)
            continue;
        if (static_cast<unsigned>(fd) > next)
            close_from(next, static_cast<unsigned>(fd) - 1);
        next = static_cast<unsigned>(fd) + 1;
    }
    close_from(next, UINT_MAX);
}

// ppid field of /proc/<name>/stat, or -1.
pid_t parent_of(const char* name)
{
    char path[64] = "/proc/";
    size_t n = 6;
    for (const char* s = name; *s && n < sizeof(path) - 6; ++s)
        path[n++] = *s;
    std::memcpy(path + n, "/stat", 6);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[512];
    const ssize_t len = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    const char* close = std::strrchr(buf, ')');
    if (!close || close[1] == '\0' || close[2] == '\0')
        return -1;
    const char* p = close + 4; // ") S " then ppid
    pid_t ppid = 0;
    while (*p >= '0' && *p <= '9')
        ppid = ppid * 10 + (*p++ - '0');
    return ppid;
}

// SIGKILL every child of this process; returns how many were found.
int kill_children(pid_t self)
{
    const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return 0;
    int found = 0;
    alignas(8) char buf[4096];
    for (;;) {
        const long n = ::syscall(SYS_getdents64, dir, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            auto* ent = reinterpret_cast<struct dirent64*>(buf + off);
            off += ent->d_reclen;
            if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
                continue;
            if (parent_of(ent->d_name) != self)
                continue;
            pid_t pid = 0;
            for (const char* s = ent->d_name; *s; ++s)
                pid = pid * 10 + (*s - '0');
            ::kill(pid, SIGKILL);
            ++found;
        }
    }
    ::close(dir);
    return found;
}

// Tells the loader how many /proc scans the teardown took, then exits.
[[noreturn]] void exit_reporting(int report_fd, unsigned scans)
{
    write_all(report_fd, &scans, sizeof(scans));
    die(0);
}

// Kills the tree generation by generation: one /proc pass SIGKILLs every
// child, then as many children are reaped; the killed ones' own children are
// reparented to us meanwhile and found by the next pass. One pass per
// generation and one wait per process: linear in the tree's size, where a
// pass per wait was quadratic (2000 orphans: 19 s).
[[noreturn]] void kill_tree_and_exit(pid_t self, int report_fd)
{
    unsigned scans = 0;
    for (;;) {
        int killed = kill_children(self);
        ++scans;
        // None found: gone, or not visible in this /proc; wait for one anyway.
        killed = std::max(killed, 1);
        for (int reaped = 0; reaped < killed;) {
            if (::waitpid(-1, nullptr, __WALL) >= 0)
                ++reaped;
            else if (errno == ECHILD)
                exit_reporting(report_fd, scans);
        }
    }
}

[[noreturn]] void run_target(const char* path, char* const* argv, int go_fd, int err_fd,
                             const struct sigaction* saved, const sigset_t* mask, pid_t supervisor)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != supervisor)
        die(127); // the supervisor died before the death signal was armed
    for (size_t i = 0; i < kShieldedSignals.size(); ++i)
        ::sigaction(kShieldedSignals[i], &saved[i], nullptr);
    // The command starts with the loader's mask, not the supervisor's.
    ::sigprocmask(SIG_SETMASK, mask, nullptr);

    char go = 0;
    if (read_full(go_fd, &go, 1) != 1)
        die(127); // the loader went away before start()
    ::close(go_fd);
    ::execve(path, argv, environ);
    const int err = errno;
    write_all(err_fd, &err, sizeof(err));
    die(127);
}

[[noreturn]] void run_supervisor(const char* path, char* const* argv, int control_fd, int info_fd,
                                 int go_fd, int err_fd, const sigset_t* mask)
{
    close_all_but({control_fd, info_fd, go_fd, err_fd});
    const pid_t self = ::getpid();
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);

    // Terminal signals must not kill the supervisor before it kills the tree;
    // the target gets the loader's dispositions back.
    struct sigaction saved[kShieldedSignals.size()];
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    for (size_t i = 0; i < kShieldedSignals.size(); ++i)
        ::sigaction(kShieldedSignals[i], &ignore, &saved[i]);

    // Children must be waited for, even if the loader ignores SIGCHLD.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &dfl, nullptr);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);

    const pid_t target = ::fork();
    if (target == 0) {
        ::close(control_fd);
        ::close(info_fd);
        run_target(path, argv, go_fd, err_fd, saved, mask, self);
    }
    const pid_t report = target > 0 ? target : -errno;
    write_all(info_fd, &report, sizeof(report));
    ::close(go_fd);
    ::close(err_fd);
    if (target < 0)
        die(1);

    const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC);
    struct pollfd fds[2] = {{control_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    for (;;) {
        if (::poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
            kill_tree_and_exit(self, info_fd);
        if (fds[0].revents != 0) // EOF: released, or the loader died
            kill_tree_and_exit(self, info_fd);
        if (sfd >= 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            (void)::read(sfd, &si, sizeof(si));
        }
        for (;;) {
            const pid_t w = ::waitpid(-1, nullptr, WNOHANG | __WALL);
            if (w < 0 && errno == ECHILD)
                exit_reporting(info_fd, 0); // the whole tree is gone
            if (w <= 0)
                break;
        }
    }
}

} // namespace

Spawner::Spawner(const std::string& path, const std::vector<std::string>& argv)
{
    // Everything the children need is prepared before fork().
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const auto& a : argv)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);

    int control[2], info[2], go[2], err[2];
    if (::pipe2(control, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    UniqueFd control_r(control[0]), control_w(control[1]);
    if (::pipe2(info, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    UniqueFd info_r(info[0]), info_w(info[1]);
    if (::pipe2(go, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    UniqueFd go_r(go[0]), go_w(go[1]);
    if (::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    UniqueFd err_r(err[0]), err_w(err[1]);

    sigset_t mask;
    ::sigprocmask(SIG_SETMASK, nullptr, &mask);
    const pid_t sup = ::fork();
    if (sup < 0)
        throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
    if (sup == 0)
        run_supervisor(path.c_str(), cargv.data(), control_r.get(), info_w.get(), go_r.get(),
                       err_w.get(), &mask);

    supervisor_ = sup;
    control_ = std::move(control_w);
    go_ = std::move(go_w);
    exec_err_ = std::move(err_r);
    control_r.reset();
    info_w.reset();
    go_r.reset();
    err_w.reset();

    pid_t report = 0;
    if (read_full(info_r.get(), &report, sizeof(report)) != sizeof(report) || report <= 0) {
        const int e = report < 0 ? -report : EAGAIN;
        kill_tree();
        throw std::runtime_error(std::string("cannot fork: ") + std::strerror(e));
    }
    target_ = report;
    // Read after the supervisor is reaped; never wait on a copy of the write
    // end that a concurrent fork of the loader may hold.
    ::fcntl(info_r.get(), F_SETFL, O_NONBLOCK);
    report_ = std::move(info_r);
}

Spawner::~Spawner()
{
    kill_tree();
}

namespace {

// Writes to a pipe whose reader may be gone without raising SIGPIPE in the
// program that embeds the library: the signal is blocked in this thread for
// the write, and one the write itself raised is taken back.
bool write_no_sigpipe(int fd, const void* buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    const bool ok = write_all(fd, buf, len);
    const int err = errno;
    if (!ok && err == EPIPE && !was_pending) {
        const timespec zero{0, 0};
        while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return ok;
}

} // namespace

int Spawner::start()
{
    const char go = 1;
    if (!write_no_sigpipe(go_.get(), &go, 1))
        return errno ? errno : EPIPE;
    go_.reset();
    int err = 0;
    const ssize_t n = read_full(exec_err_.get(), &err, sizeof(err));
    exec_err_.reset();
    return n == static_cast<ssize_t>(sizeof(err)) ? err : 0;
}

void Spawner::kill_tree() noexcept
{
    if (supervisor_ <= 0)
        return;
    control_.reset();
    go_.reset();
    exec_err_.reset();
    int status = 0;
    while (::waitpid(supervisor_, &status, __WALL) < 0 && errno == EINTR) {
    }
    supervisor_ = -1;
    unsigned scans = 0;
    if (report_ && ::read(report_.get(), &scans, sizeof(scans)) == sizeof(scans))
        teardown_scans_ = scans;
    report_.reset();
}

} // namespace pctx::detail
