// Probes nobody here wrote (python3.11's, libstdc++'s) and a target whose
// binary exists only in its own mount namespace.
#include "probe_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using probetest::Hits;
using probetest::id_of;

namespace {

// A NUL-terminated string at addr in pid (at most 256 bytes).
std::string read_string(pid_t pid, std::uint64_t addr)
{
    char buf[256] = {};
    iovec local{buf, sizeof(buf) - 1};
    // NOLINTNEXTLINE(performance-no-int-to-ptr): an address in the target
    iovec remote{reinterpret_cast<void*>(addr), sizeof(buf) - 1};
    if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) <= 0)
        return {};
    return buf;
}

} // namespace

TEST_CASE("python3.11's function__entry fires once per call of a Python function",
          "[probes][bpf][hostonly]")
{
    // Debian's python3.11 (with --with-dtrace), not whatever python3 is on PATH.
    const std::string python = "/usr/bin/python3.11";
    REQUIRE(::access(python.c_str(), X_OK) == 0);
    testsupport::Child py({python, "-u", "-c",
                           "import sys\n"
                           "def probed_fn(k):\n"
                           "    return k\n"
                           "print('ready')\n"
                           "for line in sys.stdin:\n"
                           "    for k in range(int(line.split()[1])):\n"
                           "        probed_fn(k)\n"
                           "    print('done')\n"});
    REQUIRE(py.read_line() == "ready");
    auto ctl = pctx::ProbeControl::open_pid(py.pid());
    const unsigned entry = id_of(ctl, "python", "function__entry");
    CHECK(ctl.probe(entry).semaphore != 0);
    CHECK(ctl.probe(entry).args.size() == 3);
    Hits hits(ctl);
    ctl.enable(entry);
    CHECK(ctl.semaphore_value(entry) != 0);
    // CPython 3.11 looks at its dtrace hooks only while tracing or while the
    // line probe's semaphore is up: function__entry alone never fires.
    ctl.enable(id_of(ctl, "python", "line"));
    py.send("c 7\n");
    REQUIRE(py.read_line() == "done");
    const auto all = hits.wait_for("python:function__entry", 7);
    int probed = 0;
    for (const auto& h : all)
        if (read_string(py.pid(), h.args[1].as_unsigned()) == "probed_fn")
            ++probed;
    CHECK(probed == 7);
    ctl.disable(entry);
    CHECK(ctl.semaphore_value(entry) == 0);
}

TEST_CASE("libstdcxx:throw fires once per C++ throw", "[probes][bpf]")
{
    testsupport::Child cxx({testsupport::target("cxx_throw")});
    REQUIRE(cxx.read_line() == "ready");
    auto ctl = pctx::ProbeControl::open_pid(cxx.pid());
    const unsigned thrown = id_of(ctl, "libstdcxx", "throw");
    CHECK(ctl.probe(thrown).object.find("libstdc++") != std::string::npos);
    Hits hits(ctl);
    ctl.enable(thrown);
    cxx.send("t 5\n");
    REQUIRE(cxx.read_line() == "thrown");
    CHECK(hits.wait_for("libstdcxx:throw", 5).size() == 5);
    cxx.send("t 2\n");
    REQUIRE(cxx.read_line() == "thrown");
    CHECK(hits.wait_for("libstdcxx:throw", 7).size() == 7);
}

TEST_CASE("A target in its own mount namespace is listed and traced by pid", "[probes][bpf]")
{
    char dir[] = "/tmp/pctx-mntns-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string binary = std::string(dir) + "/sdt_probes";
    // A tmpfs only the child's namespace sees, holding a copy of the target.
    probetest::PreparedChild child(binary, [&] {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("none", dir, "tmpfs", 0, nullptr) != 0)
            ::_exit(90);
        std::ifstream in(testsupport::target("sdt_probes"), std::ios::binary);
        std::ofstream out(binary, std::ios::binary);
        out << in.rdbuf();
        out.close();
        ::chmod(binary.c_str(), 0755);
    });
    const pid_t pid = child.pid();
    REQUIRE(child.read_line() == "ready");
    struct stat st {};
    CHECK(::stat(binary.c_str(), &st) != 0); // not visible from here
    {
        auto ctl = pctx::ProbeControl::open_pid(pid);
        const unsigned one = id_of(ctl, "pctxtest", "one");
        CHECK(ctl.probe(one).object == binary);
        if (!probetest::kernel_has_bpf_cookies()) {
            // libbpf 1.1's limit there (usdt_attach.cpp): refused, saying why.
            CHECK_THROWS_WITH(ctl.enable(one), Catch::Contains("no BPF cookies"));
        } else {
            Hits hits(ctl);
            ctl.enable(one);
            REQUIRE(child.command("f 3") == "fired");
            const auto seen = hits.wait_for("pctxtest:one", 3);
            REQUIRE(seen.size() == 3);
            CHECK(seen[2].args[0].value == -300000);
        }
    }
    CHECK(child.end() == 0);
    ::rmdir(dir);
}
