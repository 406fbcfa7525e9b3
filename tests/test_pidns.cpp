// --pidns: a tracer outside a pid namespace reports a process inside it by
// the ids that namespace sees, while -p takes the tracer's own.
#include "support/shell.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace {

// A new pid namespace: its init (pid 1 there) starts one child (pid 2
// there) that waits until release() closes its pipe, then exits 3.
class Namespace {
public:
    Namespace()
    {
        int hold[2], report[2];
        REQUIRE(::pipe2(hold, O_CLOEXEC) == 0);
        REQUIRE(::pipe(report) == 0);
        middle_ = ::fork();
        REQUIRE(middle_ >= 0);
        if (middle_ == 0) {
            ::close(hold[1]);
            if (::unshare(CLONE_NEWPID) != 0)
                ::_exit(90);
            const pid_t init = ::fork();
            if (init == 0) {
                const pid_t child = ::fork();
                if (child == 0) {
                    char c;
                    (void)!::read(hold[0], &c, 1);
                    ::_exit(3);
                }
                int status = 0;
                ::waitpid(child, &status, 0);
                ::_exit(0);
            }
            (void)!::write(report[1], &init, sizeof(init));
            int status = 0;
            ::waitpid(init, &status, 0);
            ::_exit(0);
        }
        ::close(hold[0]);
        ::close(report[1]);
        hold_ = hold[1];
        REQUIRE(::read(report[0], &init_, sizeof(init_)) == sizeof(init_));
        ::close(report[0]);
        // The child is the init's only child, once it has been forked.
        for (int i = 0; i < 1000 && child_ == 0; ++i) {
            std::ifstream in("/proc/" + std::to_string(init_) + "/task/" + std::to_string(init_) +
                             "/children");
            in >> child_;
            if (child_ == 0)
                ::usleep(1000);
        }
        REQUIRE(child_ > 0);
    }
    ~Namespace()
    {
        release();
        ::kill(middle_, SIGKILL);
        ::waitpid(middle_, nullptr, 0);
    }
    Namespace(const Namespace&) = delete;
    Namespace& operator=(const Namespace&) = delete;

    pid_t init() const { return init_; }   // our view
    pid_t child() const { return child_; } // our view; 2 in the namespace
    void release()
    {
        if (hold_ >= 0)
            ::close(hold_);
        hold_ = -1;
    }

private:
    pid_t middle_ = -1;
    pid_t init_ = 0;
    pid_t child_ = 0;
    int hold_ = -1;
};

} // namespace

TEST_CASE("run --pidns reports a captured process by its namespace's pid", "[bpf][pidns]")
{
    Namespace ns;
    REQUIRE(ns.child() != 2);
    testsupport::Child tracer({testsupport::cli(), "run", "-q", "-T", "0", "-c", "cpu-clock",
                               "--format", "json", "--pidns", std::to_string(ns.init()), "-p",
                               std::to_string(ns.child())});
    tracer.close_stdin();
    const auto first = nlohmann::json::parse(tracer.read_line());
    CHECK(first.at("event") == "init_lwp");
    CHECK(first.at("pid") == 2);
    CHECK(first.at("tid") == 2);
    ns.release();
    bool exited = false;
    for (std::string line; !(line = tracer.read_line()).empty();) {
        const auto e = nlohmann::json::parse(line);
        INFO(line);
        CHECK(e.at("pid") == 2);
        if (e.at("event") == "exit") {
            exited = true;
            CHECK(e.at("status") == 3);
            CHECK(e.at("counters").contains("cpu-clock"));
        }
    }
    CHECK(exited);
    const int status = tracer.wait();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("run --pidns refuses a process outside that namespace, and a command", "[bpf][pidns]")
{
    Namespace ns;
    testsupport::Child outside({testsupport::cli(), "run", "-q", "--pidns",
                                std::to_string(ns.init()), "-p", std::to_string(::getpid())});
    outside.close_stdin();
    while (!outside.read_line().empty()) {
    }
    int status = outside.wait();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);

    testsupport::Child command(
        {testsupport::cli(), "run", "--pidns", std::to_string(ns.init()), "--", "/bin/true"});
    command.close_stdin();
    status = command.wait();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
}

TEST_CASE("run --pidns: the summary names the process from our /proc", "[bpf][pidns]")
{
    Namespace ns;
    // One sample, then the run ends and the captured process runs on.
    const auto [status, out] =
        testsupport::shell(testsupport::cli() + " run -N 1 -T 0.05 --pidns " +
                           std::to_string(ns.init()) + " -p " + std::to_string(ns.child()));
    INFO(out);
    CHECK(status == 0);
    // pid 2 here is kthreadd: the name must be the namespace's pid 2's.
    CHECK(out.find("pctx-tests") != std::string::npos);
    CHECK(out.find("kthreadd") == std::string::npos);
}
