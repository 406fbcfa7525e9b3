// Text meant for a terminal or a line-oriented reader: what a traced process
// put in its arguments must neither forge a row nor reach the terminal as a
// control sequence.
#pragma once

#include <string>
#include <string_view>

namespace pctx::cli {

// s with every byte that is not printable valid UTF-8 escaped, C-style and
// reversibly: \\ for a backslash; \n \t \r \e for those; \xHH for any other
// C0 control, DEL, a C1 control (U+0080..U+009F, each of its two bytes) and
// every byte of invalid UTF-8. Printable UTF-8 passes unchanged.
std::string escape_text(std::string_view s);

// True when s is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

} // namespace pctx::cli
