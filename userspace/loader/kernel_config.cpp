#include "loader/kernel_config.hpp"

#include <sys/utsname.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace pctx::detail {
namespace {

constexpr unsigned kDefaultHz = 250;

// The value of "CONFIG_HZ=N" in one line, or 0.
unsigned hz_of(const char* line)
{
    static const char kKey[] = "CONFIG_HZ=";
    if (std::strncmp(line, kKey, sizeof(kKey) - 1) != 0)
        return 0;
    const long hz = std::strtol(line + sizeof(kKey) - 1, nullptr, 10);
    return hz > 0 && hz <= 10000 ? static_cast<unsigned>(hz) : 0;
}

// gzopen reads plain files too, so one reader serves both places.
unsigned hz_from(const std::string& path)
{
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return 0;
    char line[256];
    unsigned hz = 0;
    while (hz == 0 && gzgets(f, line, sizeof(line)))
        hz = hz_of(line);
    gzclose(f);
    return hz;
}

} // namespace

unsigned kernel_hz()
{
    static const unsigned hz = [] {
        utsname u{};
        if (::uname(&u) == 0)
            if (const unsigned h = hz_from(std::string("/boot/config-") + u.release))
                return h;
        if (const unsigned h = hz_from("/proc/config.gz"))
            return h;
        return kDefaultHz;
    }();
    return hz;
}

} // namespace pctx::detail
