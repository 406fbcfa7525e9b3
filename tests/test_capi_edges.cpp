// libpctx's C API at its edges: the messages of misuse, and the limits
// pctx-bpf adds (ring buffer size, tracked tasks).
#include "pctx/libpctx.h"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace {

std::string g_messages; // what errfn was told, "fn: message" per call

void record_error(const char* fn, const char* fmt, va_list ap)
{
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    g_messages += std::string(fn) + ": " + buf;
}

pctx_t* create_sleeper()
{
    char* argv[] = {const_cast<char*>("/bin/sleep"), const_cast<char*>("100"), nullptr};
    return pctx_create(argv[0], argv, nullptr, 0, record_error);
}

} // namespace

TEST_CASE("C: an unknown event type is named in decimal", "[bpf][capi]")
{
    g_messages.clear();
    pctx_t* p = create_sleeper();
    REQUIRE(p);
    CHECK(pctx_set_events(p, 99, nullptr, PCTX_NULL_EVENT) == -1);
    INFO(g_messages);
    CHECK(g_messages.find("unknown event type 99") != std::string::npos);
    pctx_release(p);
}
