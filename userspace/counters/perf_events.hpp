// The requested perf events, open once per online CPU, counting all tasks:
// BPF reads them at context switch, userspace reads a running thread's
// current slice from them.
#pragma once

#include "counters/event_table.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pctx::detail {

// The online CPUs, from /sys/devices/system/cpu/online ("0-3,5,7-8").
// Throws std::runtime_error when the list cannot be read or is empty.
std::vector<int> online_cpus();

struct PerfReading {
    std::uint64_t counter = 0;
    std::uint64_t enabled = 0;
    std::uint64_t running = 0;
};

class PerfEventSet {
public:
    // Opens every event on every online CPU; throws std::runtime_error with
    // the first failure explained, closing what was opened.
    explicit PerfEventSet(std::vector<CounterSpec> specs);

    std::size_t size() const { return specs_.size(); }
    const std::vector<CounterSpec>& specs() const { return specs_; }
    int possible_cpus() const { return possible_cpus_; }
    // -1 for an offline CPU.
    int fd(std::size_t counter, int cpu) const;
    bool read(std::size_t counter, int cpu, PerfReading& out) const;

private:
    std::vector<CounterSpec> specs_;
    int possible_cpus_ = 0;
    std::vector<UniqueFd> fds_; // counter * possible_cpus + cpu
};

} // namespace pctx::detail
