// The size a BPF ring buffer can have: the kernel takes only a power of two
// that is a whole number of pages.
#pragma once

#include <cstddef>

namespace pctx::detail {

// bytes rounded up to a power of two, a page at least, 2 GiB at most (a
// ring buffer's size is a 32-bit map size).
std::size_t ring_buffer_size(std::size_t bytes) noexcept;

} // namespace pctx::detail
