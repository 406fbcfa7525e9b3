// RAII over any bpftool skeleton: bpftool gives each skeleton static C++
// members (open, load, attach, destroy), so one template owns them all.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

namespace pctx::detail {

template <typename Skel> struct SkeletonDeleter {
    void operator()(Skel* skel) const noexcept { Skel::destroy(skel); }
};

template <typename Skel> using SkeletonPtr = std::unique_ptr<Skel, SkeletonDeleter<Skel>>;

struct RingBufferDeleter {
    void operator()(ring_buffer* rb) const noexcept { ring_buffer__free(rb); }
};
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

} // namespace pctx::detail
