// An OCI bundle built from this machine's files (the CLI, the libraries ldd
// lists, busybox-static for sh and sleep; nothing downloaded), run by crun in
// its own pid, mount, cgroup, ipc and uts namespaces, as a container runtime
// would run pctx-bpf.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace testsupport {

struct ContainerSpec {
    std::vector<std::string> args;                           // inside: /bin/pctx-bpf ...
    std::vector<std::string> caps{"CAP_BPF", "CAP_PERFMON"}; // all else dropped
    bool seccomp_refuses_bpf = false; // bpf and perf_event_open fail with EPERM
    bool host_pids = false;           // the host's pid namespace (Kubernetes' hostPID)
};

class OciBundle {
public:
    OciBundle(); // builds the root filesystem
    ~OciBundle();
    OciBundle(const OciBundle&) = delete;
    OciBundle& operator=(const OciBundle&) = delete;

    // Runs one container to its end: crun's exit status (the container
    // process's) and its stdout and stderr together.
    std::pair<int, std::string> run(const ContainerSpec& spec);

private:
    std::string dir_;
    int runs_ = 0;
};

// The JSON lines of pctx-bpf --format json in out.
std::vector<std::string> json_lines(const std::string& out);

} // namespace testsupport
