#include "loader/ring_size.hpp"

#include <unistd.h>

namespace pctx::detail {

std::size_t ring_buffer_size(std::size_t bytes) noexcept
{
    constexpr std::size_t kMax = std::size_t{1} << 31;
    const long page = ::sysconf(_SC_PAGESIZE);
    std::size_t size = page > 0 ? static_cast<std::size_t>(page) : 4096;
    while (size < bytes && size < kMax)
        size <<= 1;
    return size;
}

} // namespace pctx::detail
