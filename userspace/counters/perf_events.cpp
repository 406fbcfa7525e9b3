#include "counters/perf_events.hpp"

#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>

namespace pctx::detail {
std::vector<int> online_cpus()
{
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string list;
    std::getline(in, list);
    std::vector<int> cpus;
    // Numbers only: a malformed list is an error, never an exception that
    // is not std::runtime_error.
    auto number = [&list](const std::string& s) {
        if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
            throw std::runtime_error("cannot read the online CPUs: '" + list +
                                     "' in /sys/devices/system/cpu/online");
        return std::stoi(s);
    };
    std::size_t pos = 0;
    while (pos < list.size()) {
        const auto comma = list.find(',', pos);
        const std::string part =
            list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        const auto dash = part.find('-');
        const int lo = number(part.substr(0, dash));
        const int hi = dash == std::string::npos ? lo : number(part.substr(dash + 1));
        for (int c = lo; c <= hi; ++c)
            cpus.push_back(c);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    if (cpus.empty())
        throw std::runtime_error("cannot read the online CPUs from /sys/devices/system/cpu/online "
                                 "(is /sys mounted?)");
    return cpus;
}

PerfEventSet::PerfEventSet(std::vector<CounterSpec> specs) : specs_(std::move(specs))
{
    possible_cpus_ = libbpf_num_possible_cpus();
    if (possible_cpus_ <= 0)
        throw std::runtime_error("cannot count the CPUs of this machine");
    fds_.resize(specs_.size() * static_cast<std::size_t>(possible_cpus_));
    const std::vector<int> cpus = online_cpus();
    for (std::size_t k = 0; k < specs_.size(); ++k) {
        for (int cpu : cpus) {
            if (cpu >= possible_cpus_)
                throw std::runtime_error("CPU " + std::to_string(cpu) +
                                         " is online but not among the possible CPUs");
            perf_event_attr attr = specs_[k].attr;
            const long fd =
                ::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
            if (fd < 0)
                throw std::runtime_error(explain_open_failure(specs_[k], errno));
            fds_[k * static_cast<std::size_t>(possible_cpus_) + static_cast<std::size_t>(cpu)]
                .reset(static_cast<int>(fd));
        }
    }
}

int PerfEventSet::fd(std::size_t counter, int cpu) const
{
    if (cpu < 0 || cpu >= possible_cpus_ || counter >= specs_.size())
        return -1;
    return fds_[counter * static_cast<std::size_t>(possible_cpus_) + static_cast<std::size_t>(cpu)]
        .get();
}

bool PerfEventSet::read(std::size_t counter, int cpu, PerfReading& out) const
{
    const int f = fd(counter, cpu);
    if (f < 0)
        return false;
    std::uint64_t buf[3] = {};
    if (::read(f, buf, sizeof(buf)) != static_cast<ssize_t>(sizeof(buf)))
        return false;
    out = {buf[0], buf[1], buf[2]};
    return true;
}

} // namespace pctx::detail
