#include "counters/event_table.hpp"

#include "checks/seccomp_probe.hpp"
#include "counters/perf_events.hpp"
#include "lifecycle.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace pctx::detail {
namespace {

struct Known {
    const char* name;
    const char* alias; // perf's other name, or nullptr
    std::uint32_t type;
    std::uint64_t config;
};

constexpr Known kEvents[] = {
    {"cpu-clock", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    {"task-clock", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page-faults", "faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context-switches", "cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", "migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"minor-faults", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    {"major-faults", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    {"alignment-faults", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS},
    {"emulation-faults", nullptr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS},
    {"cycles", "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-references", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache-misses", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branches", "branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    {"branch-misses", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {"bus-cycles", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES},
    {"stalled-cycles-frontend", "idle-cycles-frontend", PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    {"stalled-cycles-backend", "idle-cycles-backend", PERF_TYPE_HARDWARE,
     PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    {"ref-cycles", nullptr, PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
};

std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string twice(const std::string& name, const std::string& spec)
{
    std::string msg = "event '";
    msg += name;
    msg += "' is twice in '";
    msg += spec;
    msg += '\'';
    return msg;
}

std::string bad_modifier(const std::string& mods, const std::string& requested)
{
    std::string msg = "unknown modifier ':";
    msg += mods;
    msg += "' in event '";
    msg += requested;
    msg += "': use :u (user), :k (kernel) or :uk";
    return msg;
}

CounterSpec parse_one(const std::string& requested)
{
    CounterSpec spec;
    spec.name = requested;
    std::string base = requested;
    std::string mods;
    if (const auto colon = requested.find(':'); colon != std::string::npos) {
        base = requested.substr(0, colon);
        mods = requested.substr(colon + 1);
    }
    perf_event_attr& a = spec.attr;
    a.size = sizeof(a);
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;

    bool found = false;
    for (const auto& k : kEvents) {
        if (base == k.name || (k.alias && base == k.alias)) {
            a.type = k.type;
            a.config = k.config;
            spec.hardware = k.type == PERF_TYPE_HARDWARE;
            spec.cpu_time = k.type == PERF_TYPE_SOFTWARE && (k.config == PERF_COUNT_SW_CPU_CLOCK ||
                                                             k.config == PERF_COUNT_SW_TASK_CLOCK);
            found = true;
            break;
        }
    }
    if (!found && base.size() > 1 && base.size() <= 17 && base[0] == 'r' &&
        base.find_first_not_of("0123456789abcdefABCDEF", 1) == std::string::npos) {
        char* end = nullptr;
        errno = 0;
        const unsigned long long raw = std::strtoull(base.c_str() + 1, &end, 16);
        if (*end == '\0' && errno == 0) {
            a.type = PERF_TYPE_RAW;
            a.config = raw;
            spec.hardware = true;
            found = true;
        }
    }
    if (!found)
        throw std::invalid_argument("unknown event '" + requested + "'; events countable here: " +
                                    available_event_names() + ", or raw rNNNN (see pctx-bpf list)");
    if (!mods.empty() || requested.find(':') != std::string::npos) {
        if (mods != "u" && mods != "k" && mods != "uk" && mods != "ku")
            throw std::invalid_argument(bad_modifier(mods, requested));
        const bool user = mods.find('u') != std::string::npos;
        const bool kernel = mods.find('k') != std::string::npos;
        a.exclude_user = !user;
        a.exclude_kernel = !kernel;
        a.exclude_hv = 1;
    }
    return spec;
}

// Tries the event as a session opens it: on a CPU, for every task (pid -1).
// Asking for this process alone would pass where a session is refused
// (kernel.perf_event_paranoid allows per-process counting more widely).
int try_open(const perf_event_attr& attr)
{
    perf_event_attr a = attr;
    a.disabled = 1;
    std::vector<int> cpus;
    try {
        cpus = online_cpus();
    } catch (const std::runtime_error&) {
        return ENODEV;
    }
    const long fd = ::syscall(SYS_perf_event_open, &a, -1, cpus.front(), -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return errno;
    ::close(static_cast<int>(fd));
    return 0;
}

int perf_paranoid()
{
    std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
    int level = 2;
    in >> level;
    return level;
}

bool has_hardware_pmu()
{
    struct stat st {};
    for (const char* dev :
         {"/sys/bus/event_source/devices/cpu", "/sys/bus/event_source/devices/cpu_core",
          "/sys/bus/event_source/devices/armv8_pmuv3_0"})
        if (::stat(dev, &st) == 0)
            return true;
    return false;
}

} // namespace

std::vector<CounterSpec> parse_counter_spec(const std::string& spec)
{
    std::vector<CounterSpec> out;
    std::size_t start = 0;
    while (start <= spec.size()) {
        const auto comma = spec.find(',', start);
        const std::string name = trim(
            spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (name.empty())
            throw std::invalid_argument("empty event name in '" + spec + "'");
        for (const auto& seen : out)
            if (seen.name == name)
                throw std::invalid_argument(twice(name, spec));
        out.push_back(parse_one(name));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    if (out.size() > PCTX_MAX_COUNTERS)
        throw std::invalid_argument("too many counters (" + std::to_string(out.size()) +
                                    "): at most " + std::to_string(PCTX_MAX_COUNTERS) + " at once");
    return out;
}

std::string unavailable_reason(const std::string& base)
{
    for (const auto& k : kEvents) {
        if (base != k.name && !(k.alias && base == k.alias))
            continue;
        const CounterSpec spec = parse_one(k.name);
        const int err = try_open(spec.attr);
        return err == 0 ? std::string() : open_failure_reason(spec, err);
    }
    return {};
}

std::vector<EventInfo> known_events()
{
    std::vector<EventInfo> out;
    for (const auto& k : kEvents) {
        const CounterSpec spec = parse_one(k.name);
        EventInfo info;
        info.name = k.name;
        info.kind = spec.hardware ? "hardware" : "software";
        const int err = try_open(spec.attr);
        info.available = err == 0;
        if (!info.available)
            info.reason = open_failure_reason(spec, err);
        out.push_back(std::move(info));
    }
    return out;
}

std::string available_event_names()
{
    std::string names;
    for (const auto& e : known_events()) {
        if (!e.available)
            continue;
        if (!names.empty())
            names += ", ";
        names += e.name;
    }
    return names.empty() ? "none" : names;
}

std::string open_failure_reason(const CounterSpec& spec, int err)
{
    std::string why;
    if (spec.hardware && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV))
        why = has_hardware_pmu() ? "the CPU's PMU does not support it"
                                 : "this machine has no hardware PMU (a VM without a virtual "
                                   "PMU, for instance)";
    else if (err == EPERM && seccomp_refuses_perf_event_open() == Refusal::Refused)
        why = "a seccomp filter refuses perf_event_open (Docker's default profile does): run "
              "the container with a profile that allows bpf and perf_event_open "
              "(--security-opt seccomp=PROFILE.json)";
    else if ((err == EACCES || err == EPERM) && perf_paranoid() > 2)
        why = "permission denied: kernel.perf_event_paranoid is " +
              std::to_string(perf_paranoid()) +
              ", which some kernels (Debian's among them) read as perf events for "
              "CAP_SYS_ADMIN only; set it to 2 (sysctl kernel.perf_event_paranoid=2) or run "
              "as root";
    else if (err == EACCES || err == EPERM)
        why = "permission denied (counting needs CAP_PERFMON, or root)";
    else if (err == EMFILE)
        why = "too many open files (raise the limit with ulimit -n)";
    else
        why = "the kernel refused it";
    return why + " (perf_event_open: " + std::strerror(err) + ")";
}

std::string explain_open_failure(const CounterSpec& spec, int err)
{
    return "event '" + spec.name + "' cannot be counted here: " + open_failure_reason(spec, err);
}

} // namespace pctx::detail
