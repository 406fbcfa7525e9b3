#include "checks/per_cpu_open.hpp"

#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace pctx::detail {
namespace {

bool cpu_online(int cpu)
{
    // cpu0 usually has no "online" file: it cannot go offline.
    std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/online");
    int online = 1;
    in >> online;
    return online != 0;
}

} // namespace

int try_open_per_cpu(const perf_event_attr& attr)
{
    const int ncpus = libbpf_num_possible_cpus();
    for (int cpu = 0; cpu < (ncpus > 0 ? ncpus : 1); ++cpu) {
        if (!cpu_online(cpu))
            continue;
        perf_event_attr a = attr;
        a.disabled = 1;
        const long fd = ::syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0)
            return errno;
        ::close(static_cast<int>(fd));
    }
    return 0;
}

} // namespace pctx::detail
