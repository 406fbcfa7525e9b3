// Cost of one sample with many threads: 1000 tracked threads (default),
// cpu-clock counted, ticks every 10 ms; prints the tracer's own CPU time per
// tick. Target (issue 4): under 1 ms per tick.
#include "pctx/pctx.hpp"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

double thread_cpu_ms()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: tick_cost MANY_THREADS_PROGRAM [THREADS] [TICKS]\n");
        return 2;
    }
    const std::string threads = argc > 2 ? argv[2] : "1000";
    const unsigned ticks = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 200;
    try {
        auto session = pctx::Session::spawn(
            {"/bin/sh", "-c", std::string("exec ") + argv[1] + " " + threads + " > /dev/null"});
        session.set_counters("cpu-clock");
        unsigned seen_ticks = 0, rows = 0, inits = 0;
        double tick_ms = 0;
        double batch_start = 0;
        std::uint64_t sum = 0;
        session.handlers().init_lwp = [&](const pctx::LwpEvent&) {
            ++inits;
        };
        session.handlers().tick = [&](const pctx::LwpEvent& ev) {
            // One tick delivers a row per thread; time from its first row.
            if (rows % static_cast<unsigned>(std::atoi(threads.c_str())) == 0)
                batch_start = thread_cpu_ms();
            sum += session.read_counters(ev.pid, ev.tid).front().value;
            ++rows;
            if (rows % static_cast<unsigned>(std::atoi(threads.c_str())) == 0) {
                tick_ms += thread_cpu_ms() - batch_start;
                ++seen_ticks;
            }
        };
        const double before = thread_cpu_ms();
        session.run(std::chrono::milliseconds(10), ticks);
        const double total = thread_cpu_ms() - before;
        std::printf("threads %s, ticks %u (requested %u), tracer CPU %.1f ms in all\n",
                    threads.c_str(), seen_ticks, ticks, total);
        std::printf("per tick: %.3f ms of tracer CPU, batched read included (handlers: "
                    "%.3f ms)\n",
                    total / ticks, seen_ticks ? tick_ms / seen_ticks : 0.0);
        (void)sum;
        (void)inits;
    } catch (const pctx::Error& e) {
        std::fprintf(stderr, "tick_cost: %s\n", e.what());
        return 1;
    }
    return 0;
}
