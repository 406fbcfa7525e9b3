// Signals during a run: SIGINT and SIGTERM end it (Session::terminate(), which
// is async-signal-safe) and are remembered for the exit status; SIGPIPE is
// caught and dropped so a closed output is a write error, not a death. Caught,
// not ignored: exec resets a caught signal, so the command still gets SIGPIPE.
#pragma once

#include "pctx/pctx.hpp"

#include <signal.h>

namespace pctx::cli {

// SIGPIPE: caught and dropped, for the rest of the process.
void catch_sigpipe();

class SignalScope {
public:
    explicit SignalScope(Session& session);
    ~SignalScope();
    SignalScope(const SignalScope&) = delete;
    SignalScope& operator=(const SignalScope&) = delete;

    // SIGINT or SIGTERM when one ended the run, else 0.
    int received() const;

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

} // namespace pctx::cli
