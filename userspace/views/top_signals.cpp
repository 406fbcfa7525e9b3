#include "views/top_signals.hpp"

#include <csignal>

#include <atomic>

namespace pctx::detail {
namespace {

std::atomic<TopFeed*> g_feed{nullptr};
volatile std::sig_atomic_t g_quit = 0;
volatile std::sig_atomic_t g_resize = 0;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGWINCH, SIGIO};
struct sigaction g_old[4];
bool g_installed[4] = {};

extern "C" void on_signal(int sig)
{
    if (sig == SIGINT || sig == SIGTERM)
        g_quit = 1;
    if (sig == SIGWINCH)
        g_resize = 1;
    if (TopFeed* feed = g_feed.load())
        feed->interrupt();
}

} // namespace

void install_top_signals(bool screen)
{
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < 4; ++i) {
        if (!screen && (kSignals[i] == SIGWINCH || kSignals[i] == SIGIO))
            continue;
        g_installed[i] = ::sigaction(kSignals[i], &sa, &g_old[i]) == 0;
    }
}

void restore_top_signals()
{
    g_feed.store(nullptr);
    for (int i = 0; i < 4; ++i) {
        if (g_installed[i])
            ::sigaction(kSignals[i], &g_old[i], nullptr);
        g_installed[i] = false;
    }
}

void interrupt_on_signals(TopFeed* feed)
{
    g_feed.store(feed);
}

bool quit_requested()
{
    return g_quit != 0;
}

bool take_resize()
{
    const bool r = g_resize != 0;
    g_resize = 0;
    return r;
}

} // namespace pctx::detail
