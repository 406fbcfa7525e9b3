// pctx-bpf C++ probe API: list, enable and disable the USDT probes
// (<sys/sdt.h>, .note.stapsdt) of another process, as illumos's libtnfctl
// did for TNF probes, and receive their hits with decoded arguments.
//
// A ProbeControl is opened on a pid (the target is read through /proc) or
// indirectly (every read of the target goes through the caller's
// callbacks). Listing needs no BPF; enabling attaches a uprobe with a BPF
// program, which current kernels allow to CAP_SYS_ADMIN only. Destruction
// disables everything the handle enabled; another handle on the same target
// is unaffected. Errors are ProbeError exceptions.
#pragma once

#include <pctx/export.h>
#include <pctx/pctx.hpp>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pctx {

enum class ProbeErrc {
    AllocFail,  // out of memory
    NoProbes,   // the target has no USDT probes
    BadPid,     // no such process
    Permission, // not allowed to read the target or to attach uprobes
    BadArg,     // no such probe id, or a bad argument
    Internal,   // anything else, including a failing indirect callback
};

class PCTX_API ProbeError : public Error {
public:
    ProbeError(ProbeErrc code, std::string function, const std::string& message);
    ProbeErrc code() const noexcept { return code_; }

private:
    ProbeErrc code_;
};

struct ProbeArgInfo {
    std::string type; // "int32", "uint64", ...
    std::string spec; // as the note writes it: "-4@-20(%rbp)"
};

// One probe: a provider:name in one object, at one or more sites.
struct ProbeInfo {
    unsigned id = 0;
    std::string provider;
    std::string name;
    std::string object;                   // the object's path as the target sees it
    std::vector<std::uint64_t> addresses; // sites, in the target's address space
    std::uint64_t semaphore = 0;          // its address in the target, 0: none
    std::vector<ProbeArgInfo> args;
    bool enabled = false;
};

struct ProbeValue {
    std::int64_t value = 0; // sign-extended when is_signed, else zero-extended
    bool is_signed = false;
    std::uint64_t as_unsigned() const { return static_cast<std::uint64_t>(value); }
};

struct ProbeHit {
    unsigned id = 0;
    const ProbeInfo* probe = nullptr; // valid during the callback
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0; // CLOCK_MONOTONIC
    std::vector<ProbeValue> args;
};

// A load object as an indirect caller describes it (tnfctl_ind_obj_info_t).
struct ProbeObjectInfo {
    int objfd = -1;              // -1: use objname; not closed by pctx-bpf
    std::uint64_t text_base = 0; // where the object's first page is mapped
    std::uint64_t data_base = 0; // unused on Linux
    std::string objname;
};

// Indirect mode's callbacks (tnfctl_ind_config_t). read returns 0 on
// success; obj_iter calls its argument for every object, stopping at and
// returning the first non-zero result, and returns 0 after all of them.
struct ProbeIndirectConfig {
    std::function<int(std::uint64_t addr, void* buf, std::size_t size)> read;
    std::function<pid_t()> getpid;
    std::function<int(const std::function<int(const ProbeObjectInfo&)>& each)> obj_iter;
};

// pattern ("provider:name", each part with * and ? wildcards) names p.
PCTX_API bool probe_matches(const std::string& pattern, const ProbeInfo& p);

class PCTX_API ProbeControl {
public:
    using DiagnosticHandler = std::function<void(const std::string& message)>;

    // diag receives "OBJECT: why" for each note or object skipped; by
    // default they go to stderr.
    static ProbeControl open_pid(pid_t pid, DiagnosticHandler diag = {});
    static ProbeControl open_indirect(ProbeIndirectConfig config, DiagnosticHandler diag = {});
    // The probes of an ELF file, unloaded: addresses are link-time ones.
    static std::vector<ProbeInfo> list_file(const std::string& path, DiagnosticHandler diag = {});

    ProbeControl(ProbeControl&&) noexcept;
    ProbeControl& operator=(ProbeControl&&) noexcept;
    ~ProbeControl();

    pid_t pid() const;
    const std::vector<ProbeInfo>& probes() const;
    const ProbeInfo& probe(unsigned id) const; // ProbeError(BadArg) if unknown

    // Rescans the target's objects: probes of new ones appear disabled,
    // those of unmapped ones are detached and disappear. True when the set
    // of objects changed.
    bool check_libs();

    void enable(unsigned id);
    void disable(unsigned id);
    // The semaphore's current value in the target (0 when there is none).
    std::uint16_t semaphore_value(unsigned id) const;

    // Delivers pending hits to on_hit; waits up to timeout_ms for them.
    // The kernel wakes a waiting poll only once 64 KiB of hits are
    // buffered (a wakeup per hit would cost more than the hit); fewer are
    // delivered when the timeout expires, so keep it finite: it bounds the
    // latency. Returns the number delivered.
    int poll(int timeout_ms);
    // Readable when a batch of hits is pending (for poll/epoll; call poll(0)
    // on timeouts too); -1 before any enable.
    int hits_fd() const;
    void on_hit(std::function<void(const ProbeHit&)> handler);
    // Hits the kernel could not deliver because the buffer was full.
    std::uint64_t lost() const;

    struct Impl;

private:
    explicit ProbeControl(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace pctx
