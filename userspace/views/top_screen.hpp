// `pctx-bpf top`'s two faces: the full-screen live view (ncurses, keys) and
// the batch mode's text tables (no curses at all).
#pragma once

#include "views/top_feed.hpp"

#include <cstdio>

namespace pctx::detail {

// Until q (or SIGINT/SIGTERM); 0. Throws pctx::Error when the session cannot
// start, with the terminal untouched.
int run_top_screen(const TopSettings& settings);
// count tables (0: until the watched processes end or SIGINT), each after
// one refresh; 0. Throws pctx::Error as run_top_screen.
int run_top_batch(const TopSettings& settings, unsigned count, std::FILE* out);

} // namespace pctx::detail
