// The BPF side of a probe handle: the usdt program, loaded on first enable,
// one bpf_link per enabled probe, and the ring buffer its hits arrive in.
#pragma once

#include "usdt.h"
#include "loader/skeleton.hpp"

#include <sys/types.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

struct usdt_bpf;
struct bpf_link;

namespace pctx::detail {

struct LinkDeleter {
    void operator()(bpf_link* link) const noexcept;
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// Out of line: the skeleton's type is complete only in usdt_attach.cpp.
struct UsdtSkelDeleter {
    void operator()(usdt_bpf* skel) const noexcept;
};

class UsdtAttacher {
public:
    using Sink = std::function<void(const pctx_probe_hit&)>;

    UsdtAttacher() = default;
    UsdtAttacher(UsdtAttacher&&) = delete; // the ring buffer holds this
    UsdtAttacher& operator=(UsdtAttacher&&) = delete;
    UsdtAttacher(const UsdtAttacher&) = delete;
    UsdtAttacher& operator=(const UsdtAttacher&) = delete;
    ~UsdtAttacher();

    // Attaches every site of provider:name in the file at path, for pid
    // only, its hits carrying id. Throws ProbeError (Permission with what to
    // grant, or Internal).
    void attach(unsigned id, pid_t pid, const std::string& path, const std::string& provider,
                const std::string& name, Sink sink);
    void detach(unsigned id);

    int poll(int timeout_ms);
    int fd() const;
    std::uint64_t lost() const;

private:
    void load();
    static int on_sample(void* ctx, void* data, std::size_t size);

    std::unique_ptr<usdt_bpf, UsdtSkelDeleter> skel_;
    RingBufferPtr ring_;
    std::unique_ptr<Sink> sink_;
    std::exception_ptr pending_; // thrown by the sink, rethrown by poll
    std::map<unsigned, LinkPtr> links_;
};

} // namespace pctx::detail
