#include "probe_support.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <fstream>
#include <set>
#include <thread>

namespace probetest {

unsigned id_of(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name)
{
    for (const auto& p : ctl.probes())
        if (p.provider == provider && p.name == name)
            return p.id;
    FAIL("no probe " << provider << ":" << name);
    return 0;
}

bool has_probe(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name)
{
    for (const auto& p : ctl.probes())
        if (p.provider == provider && p.name == name)
            return true;
    return false;
}

Hits::Hits(pctx::ProbeControl& ctl) : ctl_(ctl)
{
    ctl_.on_hit([this](const pctx::ProbeHit& h) {
        hits_.push_back({h.probe->provider + ":" + h.probe->name, h.pid, h.tid, h.args});
    });
}

std::size_t Hits::count(const std::string& probe) const
{
    std::size_t n = 0;
    for (const auto& h : hits_)
        n += h.probe == probe ? 1 : 0;
    return n;
}

std::vector<Hit> Hits::wait_for(const std::string& probe, std::size_t n)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count(probe) < n && std::chrono::steady_clock::now() < deadline)
        ctl_.poll(100);
    ctl_.poll(0);
    std::vector<Hit> out;
    for (const auto& h : hits_)
        if (h.probe == probe)
            out.push_back(h);
    return out;
}

SdtTarget::SdtTarget() : child_({testsupport::target("sdt_probes")})
{
    REQUIRE(child_.read_line() == "ready");
}

std::string SdtTarget::command(const std::string& cmd)
{
    child_.send(cmd + "\n");
    return child_.read_line();
}

PreparedChild::PreparedChild(const std::string& path, const std::function<void()>& prepare)
{
    int to[2];
    int from[2];
    REQUIRE(::pipe2(to, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        ::dup2(to[0], 0);
        ::dup2(from[1], 1);
        prepare();
        ::execl(path.c_str(), path.c_str(), nullptr);
        ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    in_ = to[1];
    out_ = from[0];
}

PreparedChild::~PreparedChild()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    for (const int fd : {in_, out_})
        if (fd >= 0)
            ::close(fd);
}

std::string PreparedChild::read_line()
{
    std::string s;
    char c;
    while (::read(out_, &c, 1) == 1 && c != '\n')
        s += c;
    return s;
}

std::string PreparedChild::command(const std::string& cmd)
{
    const std::string line = cmd + "\n";
    REQUIRE(::write(in_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    return read_line();
}

int PreparedChild::end()
{
    ::close(in_);
    in_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

Cli::Cli(const std::vector<std::string>& args)
{
    int out[2];
    int err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    std::vector<std::string> argv = {testsupport::cli()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> ptrs;
    ptrs.reserve(argv.size() + 1);
    for (auto& a : argv)
        ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execv(ptrs[0], ptrs.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
}

Cli::~Cli()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0)
        ::close(out_fd_);
    if (err_fd_ >= 0)
        ::close(err_fd_);
}

bool Cli::wait_stderr(const std::string& text)
{
    // stdout is drained too, so a chatty pctx-bpf never blocks on it.
    for (;;) {
        if (err_.find(text) != std::string::npos)
            return true;
        pollfd fds[2] = {{err_fd_, POLLIN, 0}, {out_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 10000) <= 0)
            return false;
        char buf[4096];
        if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
            const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
            if (n > 0)
                out_.append(buf, static_cast<std::size_t>(n));
        }
        if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
            const ssize_t n = ::read(err_fd_, buf, sizeof(buf));
            if (n <= 0)
                return err_.find(text) != std::string::npos;
            err_.append(buf, static_cast<std::size_t>(n));
        }
    }
}

void Cli::signal(int sig)
{
    ::kill(pid_, sig);
}

int Cli::finish()
{
    for (int* fd : {&out_fd_, &err_fd_}) {
        std::string& into = fd == &out_fd_ ? out_ : err_;
        char buf[4096];
        for (ssize_t n; (n = ::read(*fd, buf, sizeof(buf))) > 0;)
            into.append(buf, static_cast<std::size_t>(n));
        ::close(*fd);
        *fd = -1;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

bool kernel_has_bpf_cookies()
{
    return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, nullptr) > 0;
}

int SdtTarget::end()
{
    child_.close_stdin();
    return child_.wait();
}

namespace {

bool is_usdt_program(unsigned id, unsigned* uid)
{
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0)
        return false;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    const bool yes =
        bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::string(info.name) == "on_probe";
    if (uid != nullptr)
        *uid = info.created_by_uid;
    ::close(fd);
    return yes;
}

// Waits (bounded) until done() holds: the kernel frees a program an RCU
// grace period after its last reference, with nothing to wait on but time.
template <typename Done> bool settle(const Done& done)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

} // namespace

std::vector<unsigned> own_usdt_programs()
{
    std::set<unsigned> ids;
    DIR* dir = ::opendir("/proc/self/fdinfo");
    REQUIRE(dir != nullptr);
    while (const dirent* e = ::readdir(dir)) {
        std::ifstream info(std::string("/proc/self/fdinfo/") + e->d_name);
        for (std::string line; std::getline(info, line);)
            if (line.rfind("prog_id:", 0) == 0) {
                const auto id = static_cast<unsigned>(std::stoul(line.substr(8)));
                if (is_usdt_program(id, nullptr))
                    ids.insert(id);
            }
    }
    ::closedir(dir);
    return {ids.begin(), ids.end()};
}

bool programs_gone(const std::vector<unsigned>& ids)
{
    return settle([&] {
        for (const unsigned id : ids)
            if (is_usdt_program(id, nullptr))
                return false;
        return true;
    });
}

bool usdt_programs_of_uid_gone(unsigned uid)
{
    return settle([&] {
        for (__u32 id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
            unsigned owner = 0;
            if (is_usdt_program(id, &owner) && owner == uid)
                return false;
        }
        return true;
    });
}

} // namespace probetest
