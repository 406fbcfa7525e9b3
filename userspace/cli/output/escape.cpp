#include "cli/output/escape.hpp"

#include <cstdint>

namespace pctx::cli {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if the byte there does
// not start one (RFC 3629's table: no overlongs, no surrogates, <= U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    const auto at = [&](std::size_t k) {
        return static_cast<std::uint8_t>(s[k]);
    };
    const std::uint8_t b = at(i);
    if (b < 0x80)
        return 1;
    std::size_t len = 0;
    std::uint8_t lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (i + len > s.size() || at(i + 1) < lo || at(i + 1) > hi)
        return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (at(i + k) < 0x80 || at(i + k) > 0xbf)
            return 0;
    return len;
}

void append_hex(std::string& out, std::uint8_t b)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    out += "\\x";
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
}

// The C escapes a reader knows; nullptr for the others.
const char* named_escape(std::uint8_t b)
{
    switch (b) {
    case '\n':
        return "\\n";
    case '\t':
        return "\\t";
    case '\r':
        return "\\r";
    case 0x1b:
        return "\\e";
    default:
        return nullptr;
    }
}

} // namespace

std::string escape_text(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<std::uint8_t>(s[i]);
        const std::size_t len = utf8_length(s, i);
        if (len == 1 && b >= 0x20 && b != 0x7f) {
            if (b == '\\')
                out += '\\';
            out += static_cast<char>(b);
        } else if (len == 1) {
            if (const char* named = named_escape(b))
                out += named;
            else
                append_hex(out, b);
        } else if (len == 2 && b == 0xc2 && static_cast<std::uint8_t>(s[i + 1]) < 0xa0) {
            // A C1 control: a terminal may take U+009B for CSI.
            append_hex(out, b);
            append_hex(out, static_cast<std::uint8_t>(s[i + 1]));
        } else if (len > 1) {
            out.append(s.substr(i, len));
        } else {
            append_hex(out, b); // not UTF-8: this byte alone
        }
        i += len == 0 ? 1 : len;
    }
    return out;
}

bool is_valid_utf8(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8_length(s, i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

} // namespace pctx::cli
