// The signals `pctx-bpf top` answers while a session runs: each interrupts the
// running feed (TopFeed::interrupt is signal-safe) and leaves a flag for the
// loop to act on once the session's run() has returned.
#pragma once

#include "views/top_feed.hpp"

namespace pctx::detail {

// SIGINT and SIGTERM (quit); with screen, SIGWINCH (resize) and SIGIO (input).
void install_top_signals(bool screen);
void restore_top_signals();
// The feed the signals interrupt; nullptr: none.
void interrupt_on_signals(TopFeed* feed);
bool quit_requested();
bool take_resize();

} // namespace pctx::detail
