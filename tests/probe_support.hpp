// Shared by the probe tests: the sdt_probes target driven through its pipes,
// hit collection, and the ids of this project's usdt programs.
#pragma once

#include "support/test_support.hpp"

#include <pctx/probes.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace probetest {

struct Hit {
    std::string probe; // provider:name
    pid_t pid = 0;
    pid_t tid = 0;
    std::vector<pctx::ProbeValue> args;
};

// The id of provider:name in ctl; fails the test when absent.
unsigned id_of(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name);
bool has_probe(const pctx::ProbeControl& ctl, const std::string& provider, const std::string& name);

// Collects every hit of ctl.
class Hits {
public:
    explicit Hits(pctx::ProbeControl& ctl);
    // Polls until n hits of probe arrived (bounded: 10 s); their list.
    std::vector<Hit> wait_for(const std::string& probe, std::size_t n);
    std::size_t count(const std::string& probe) const;

private:
    pctx::ProbeControl& ctl_;
    std::vector<Hit> hits_;
};

// sdt_probes started with pipes, waited until it said "ready".
class SdtTarget {
public:
    SdtTarget();
    pid_t pid() const { return child_.pid(); }
    // Sends a command line and returns the reply line.
    std::string command(const std::string& cmd);
    // Closes its stdin: it exits 0; returns the wait status.
    int end();

private:
    testsupport::Child child_;
};

// BPF cookies (5.15): without them libbpf 1.1 cannot attach a PIE or shared
// object through a path the target's maps do not show.
bool kernel_has_bpf_cookies();

// path exec'd with pipes to its stdin and from its stdout, after prepare()
// ran in the forked child (a uid change, a mount namespace): it calls
// _exit() on failure. Destruction closes stdin, SIGKILLs if need be, reaps.
class PreparedChild {
public:
    PreparedChild(const std::string& path, const std::function<void()>& prepare);
    ~PreparedChild();
    PreparedChild(const PreparedChild&) = delete;
    PreparedChild& operator=(const PreparedChild&) = delete;
    pid_t pid() const { return pid_; }
    std::string read_line();                     // "" at EOF
    std::string command(const std::string& cmd); // sends cmd + "\n", returns the reply
    int end();                                   // closes stdin, returns the wait status

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
};

// pctx-bpf ARGS with stdout and stderr on pipes (stdin: /dev/null).
class Cli {
public:
    explicit Cli(const std::vector<std::string>& args);
    ~Cli(); // SIGKILLs and reaps if still running
    Cli(const Cli&) = delete;
    Cli& operator=(const Cli&) = delete;
    // Reads stderr until a line holding text (true) or EOF (false).
    bool wait_stderr(const std::string& text);
    void signal(int sig);
    // Reads both to EOF and reaps: the exit status (-1: killed).
    int finish();
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
};

// The on_probe programs (usdt.bpf.c's) this process holds, through its
// own program and link fds.
std::vector<unsigned> own_usdt_programs();
// Waits (bounded) until none of these programs is loaded any more.
bool programs_gone(const std::vector<unsigned>& ids);
// Waits (bounded) until no on_probe program created by uid is loaded.
bool usdt_programs_of_uid_gone(unsigned uid);

} // namespace probetest
