#include "support/oci_bundle.hpp"

#include "support/shell.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace testsupport {
namespace {

void copy_into(const fs::path& root, const fs::path& file)
{
    const fs::path to = root / file.relative_path();
    fs::create_directories(to.parent_path());
    fs::copy_file(fs::canonical(file), to, fs::copy_options::overwrite_existing);
}

// crun refuses a hybrid cgroup layout (v1 controllers, v2 aside): it then
// runs in a mount namespace of its own where /sys/fs/cgroup is cgroup2.
bool unified_cgroups()
{
    struct statfs st {};
    return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

nlohmann::json config(const ContainerSpec& spec)
{
    nlohmann::json caps = spec.caps;
    nlohmann::json c = {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", spec.args},
          {"env", {"PATH=/bin"}},
          {"cwd", "/"},
          {"capabilities",
           {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "pctx"},
        // sysfs read-only as the runtimes mount it: it holds the kernel's BTF
        // (/sys/kernel/btf/vmlinux) and the online CPUs.
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/sys"},
           {"type", "sysfs"},
           {"source", "sysfs"},
           {"options", {"nosuid", "noexec", "nodev", "ro"}}},
          {{"destination", "/dev"},
           {"type", "tmpfs"},
           {"source", "tmpfs"},
           {"options", {"nosuid", "mode=755", "size=1024k"}}},
          {{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}}}},
        {"linux",
         {{"namespaces",
           {{{"type", "pid"}},
            {{"type", "mount"}},
            {{"type", "cgroup"}},
            {{"type", "ipc"}},
            {{"type", "uts"}}}}}}};
    if (spec.host_pids)
        c["linux"]["namespaces"].erase(0); // the pid entry
    if (spec.seccomp_refuses_bpf)
        // The runtimes' default profiles refuse both (Docker's allows them
        // only with CAP_SYS_ADMIN) with EPERM.
        c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"architectures", {"SCMP_ARCH_X86_64"}},
                                 {"syscalls",
                                  {{{"names", {"bpf", "perf_event_open"}},
                                    {"action", "SCMP_ACT_ERRNO"},
                                    {"errnoRet", 1}}}}};
    return c;
}

} // namespace

OciBundle::OciBundle()
{
    char dir[] = "/tmp/pctx-oci-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    dir_ = dir;
    const fs::path root = fs::path(dir_) / "rootfs";
    for (const char* d : {"bin", "proc", "sys", "dev", "tmp"})
        fs::create_directories(root / d);
    fs::copy_file(cli(), root / "bin/pctx-bpf");
    const auto [status, libs] = shell("ldd " + cli());
    REQUIRE(status == 0);
    std::istringstream lines(libs);
    for (std::string line; std::getline(lines, line);) {
        const auto slash = line.find('/');
        if (slash == std::string::npos)
            continue;
        copy_into(root, line.substr(slash, line.find(' ', slash) - slash));
    }
    fs::copy_file("/bin/busybox", root / "bin/busybox");
    for (const char* applet : {"sh", "sleep", "true"})
        fs::create_symlink("busybox", root / "bin" / applet);
}

OciBundle::~OciBundle()
{
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

std::pair<int, std::string> OciBundle::run(const ContainerSpec& spec)
{
    std::ofstream(dir_ + "/config.json") << config(spec).dump();
    const std::string id =
        "pctx-test-" + std::to_string(::getpid()) + "-" + std::to_string(++runs_);
    const std::string crun =
        "crun --root " + dir_ + "/state run --bundle " + dir_ + " " + id + " </dev/null";
    if (unified_cgroups())
        return shell(crun);
    return shell("unshare -m --propagation private sh -c 'mount -t cgroup2 none /sys/fs/cgroup "
                 "&& exec " +
                 crun + "'");
}

std::vector<std::string> json_lines(const std::string& out)
{
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] == '{')
            lines.push_back(line);
    return lines;
}

} // namespace testsupport
