// The tracer's own files must never take fd 0, 1 or 2: a command started
// with them closed would otherwise inherit -o's file as its stdin or stdout.
#pragma once

namespace pctx::cli {

// Opens /dev/null on each of fds 0, 1 and 2 that is closed. Call first.
void reserve_standard_fds() noexcept;

} // namespace pctx::cli
