#include "cli/signals.hpp"

namespace pctx::cli {
namespace {

Session* g_session = nullptr;
volatile sig_atomic_t g_received = 0;

void on_terminal_signal(int sig)
{
    g_received = sig;
    if (g_session)
        g_session->terminate();
}

void on_sigpipe(int) {}

} // namespace

void catch_sigpipe()
{
    struct sigaction sa {};
    sa.sa_handler = on_sigpipe;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGPIPE, &sa, nullptr);
}

SignalScope::SignalScope(Session& session)
{
    g_session = &session;
    g_received = 0;
    struct sigaction sa {};
    sa.sa_handler = on_terminal_signal;
    // Writes in progress finish: the output stays whole.
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
}

SignalScope::~SignalScope()
{
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    g_session = nullptr;
}

int SignalScope::received() const
{
    return g_received;
}

} // namespace pctx::cli
