// teardown_cost ORPHANS N: starts ORPHANS N through the Spawner (N sleeping
// orphans of a process that exits), then times kill_tree(): from release to
// every process of the tree reaped. Prints the time and the /proc scans.
#include "spawn/spawner.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

double now_s()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: teardown_cost ORPHANS-PROGRAM N\n");
        return 2;
    }
    const std::string orphans = argv[1];
    const int n = std::atoi(argv[2]);
    char dir[] = "/tmp/pctx-teardown-XXXXXX";
    if (!::mkdtemp(dir))
        return 1;
    const std::string fifo = std::string(dir) + "/pids";
    if (::mkfifo(fifo.c_str(), 0600) != 0)
        return 1;

    std::vector<pid_t> pids;
    double seconds = 0;
    unsigned scans = 0;
    {
        pctx::detail::Spawner spawner(
            "/bin/sh",
            {"/bin/sh", "-c", "exec " + orphans + " " + std::to_string(n) + " > " + fifo});
        if (spawner.start() != 0)
            return 1;
        std::ifstream in(fifo); // EOF once every orphan exists
        for (std::string line; std::getline(in, line);)
            pids.push_back(std::stoi(line));
        const double start = now_s();
        spawner.kill_tree();
        seconds = now_s() - start;
        scans = spawner.teardown_scans();
    }
    ::unlink(fifo.c_str());
    ::rmdir(dir);

    int left = 0;
    for (pid_t pid : pids)
        left += ::kill(pid, 0) == 0 ? 1 : 0;
    std::printf("%zu orphans: torn down in %.3f s, %u /proc scans, %d left\n", pids.size(), seconds,
                scans, left);
    return left == 0 && pids.size() == static_cast<std::size_t>(n) ? 0 : 1;
}
