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
        // A tick's rows share its time: a new time starts the next tick. The
        // cost per tick is the tracer's CPU from the first tick's start to
        // the last one's, over the ticks between: start-up and the threads'
        // creation stay out of it.
        unsigned seen_ticks = 0;
        std::uint64_t tick_time = 0, sum = 0;
        double first_tick_cpu = 0, last_tick_cpu = 0;
        session.handlers().tick = [&](const pctx::LwpEvent& ev) {
            if (ev.time_ns != tick_time) {
                tick_time = ev.time_ns;
                last_tick_cpu = thread_cpu_ms();
                if (seen_ticks++ == 0)
                    first_tick_cpu = last_tick_cpu;
            }
            sum += session.read_counters(ev.pid, ev.tid).front().value;
        };
        const double before = thread_cpu_ms();
        session.run(std::chrono::milliseconds(10), ticks);
        const double total = thread_cpu_ms() - before;
        std::printf("threads %s, ticks %u (requested %u), tracer CPU %.1f ms in all\n",
                    threads.c_str(), seen_ticks, ticks, total);
        if (seen_ticks < 2) {
            std::fprintf(stderr, "tick_cost: too few ticks to measure\n");
            return 1;
        }
        std::printf("per tick: %.3f ms of tracer CPU (%s threads' rows read and handled; "
                    "start-up excluded)\n",
                    (last_tick_cpu - first_tick_cpu) / (seen_ticks - 1), threads.c_str());
        (void)sum;
    } catch (const pctx::Error& e) {
        std::fprintf(stderr, "tick_cost: %s\n", e.what());
        return 1;
    }
    return 0;
}
