// ProbeControl: the probes of a target's objects, enabled one uprobe
// attachment (libbpf's bpf_program__attach_usdt) per probe, each carrying the
// probe's id as its BPF cookie, all feeding one ring buffer per handle.
#include "probes/probe_scan.hpp"
#include "probes/usdt_attach.hpp"

#include <pctx/probes.hpp>

#include <fnmatch.h>
#include <sys/uio.h>

#include <cstdio>
#include <map>
#include <system_error>
#include <utility>

namespace pctx {

using detail::ScannedObject;

ProbeError::ProbeError(ProbeErrc code, std::string function, const std::string& message)
    : Error(std::move(function), message), code_(code)
{
}

bool probe_matches(const std::string& pattern, const ProbeInfo& p)
{
    const auto colon = pattern.find(':');
    if (colon == std::string::npos)
        return false;
    return ::fnmatch(pattern.substr(0, colon).c_str(), p.provider.c_str(), 0) == 0 &&
           ::fnmatch(pattern.substr(colon + 1).c_str(), p.name.c_str(), 0) == 0;
}

struct ProbeControl::Impl {
    pid_t pid = 0;
    std::optional<ProbeIndirectConfig> indirect;
    DiagnosticHandler diag;
    std::vector<ScannedObject> objects;
    std::vector<ProbeInfo> probes;
    std::map<unsigned, std::size_t> object_of; // probe id -> index into objects
    unsigned next_id = 1;
    std::function<void(const ProbeHit&)> hit_handler;
    // Declared last: detached first when the handle goes.
    detail::UsdtAttacher attacher;

    std::vector<ScannedObject> scan(const char* function)
    {
        if (!indirect)
            return detail::scan_pid(pid, function, diag);
        return detail::scan_indirect(*indirect, function, diag);
    }

    void add_object(ScannedObject obj)
    {
        const std::size_t index = objects.size();
        for (ProbeInfo& probe : detail::object_probes(obj, diag)) {
            probe.id = next_id++;
            object_of[probe.id] = index;
            probes.push_back(std::move(probe));
        }
        objects.push_back(std::move(obj));
    }

    std::size_t index_of(unsigned id, const char* function) const
    {
        for (std::size_t i = 0; i < probes.size(); ++i)
            if (probes[i].id == id)
                return i;
        throw ProbeError(ProbeErrc::BadArg, function, "no probe with id " + std::to_string(id));
    }

    void deliver(const pctx_probe_hit& raw)
    {
        if (!hit_handler)
            return;
        const auto it = object_of.find(static_cast<unsigned>(raw.probe_id));
        if (it == object_of.end())
            return; // its object went away since
        const ProbeInfo& probe = probes[index_of(it->first, "poll")];
        ProbeHit hit;
        hit.id = probe.id;
        hit.probe = &probe;
        hit.pid = static_cast<pid_t>(raw.pid);
        hit.tid = static_cast<pid_t>(raw.tid);
        hit.time_ns = raw.time_ns;
        const std::size_t n = std::min<std::size_t>(raw.nargs, probe.args.size());
        for (std::size_t i = 0; i < n; ++i)
            hit.args.push_back({raw.args[i], probe.args[i].type[0] == 'i'});
        hit_handler(hit);
    }
};

namespace {

ProbeControl::DiagnosticHandler or_stderr(ProbeControl::DiagnosticHandler diag)
{
    if (diag)
        return diag;
    return [](const std::string& message) {
        std::fprintf(stderr, "pctx-bpf: %s\n", message.c_str());
    };
}

} // namespace

ProbeControl::ProbeControl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProbeControl::ProbeControl(ProbeControl&&) noexcept = default;
ProbeControl& ProbeControl::operator=(ProbeControl&&) noexcept = default;
ProbeControl::~ProbeControl() = default;

ProbeControl ProbeControl::open_pid(pid_t pid, DiagnosticHandler diag)
{
    if (pid <= 0)
        throw ProbeError(ProbeErrc::BadPid, "open", "no process " + std::to_string(pid));
    auto impl = std::make_unique<Impl>();
    impl->pid = pid;
    impl->diag = or_stderr(std::move(diag));
    for (auto& obj : impl->scan("open"))
        impl->add_object(std::move(obj));
    if (impl->probes.empty())
        throw ProbeError(ProbeErrc::NoProbes, "open",
                         "process " + std::to_string(pid) + " has no USDT probes (none of its " +
                             std::to_string(impl->objects.size()) +
                             " mapped objects has a .note.stapsdt section)");
    return ProbeControl(std::move(impl));
}

ProbeControl ProbeControl::open_indirect(ProbeIndirectConfig config, DiagnosticHandler diag)
{
    if (!config.read || !config.getpid || !config.obj_iter)
        throw ProbeError(ProbeErrc::BadArg, "indirect_open",
                         "the configuration lacks a read, getpid or obj_iter callback");
    auto impl = std::make_unique<Impl>();
    impl->pid = config.getpid();
    if (impl->pid <= 0)
        throw ProbeError(ProbeErrc::Internal, "indirect_open",
                         "the getpid callback failed (returned " + std::to_string(impl->pid) + ")");
    impl->indirect = std::move(config);
    impl->diag = or_stderr(std::move(diag));
    for (auto& obj : impl->scan("indirect_open"))
        impl->add_object(std::move(obj));
    if (impl->probes.empty())
        throw ProbeError(ProbeErrc::NoProbes, "indirect_open",
                         "none of the " + std::to_string(impl->objects.size()) +
                             " objects the obj_iter callback gave has USDT probes");
    return ProbeControl(std::move(impl));
}

std::vector<ProbeInfo> ProbeControl::list_file(const std::string& path, DiagnosticHandler diag)
{
    auto obj = detail::scan_file(path);
    auto probes = detail::object_probes(obj, or_stderr(std::move(diag)));
    unsigned id = 1;
    for (auto& probe : probes)
        probe.id = id++;
    return probes;
}

pid_t ProbeControl::pid() const
{
    return impl_->pid;
}
const std::vector<ProbeInfo>& ProbeControl::probes() const
{
    return impl_->probes;
}

const ProbeInfo& ProbeControl::probe(unsigned id) const
{
    return impl_->probes[impl_->index_of(id, "probe")];
}

bool ProbeControl::check_libs()
{
    Impl& d = *impl_;
    std::vector<ScannedObject> now = d.scan("check_libs");
    auto same = [](const ScannedObject& a, const ScannedObject& b) {
        return a.name == b.name && a.text_base == b.text_base;
    };
    bool changed = false;
    // Gone: detach and forget their probes.
    std::vector<ScannedObject> kept;
    std::vector<std::size_t> new_index(d.objects.size(), SIZE_MAX);
    for (std::size_t i = 0; i < d.objects.size(); ++i) {
        bool present = false;
        for (const auto& obj : now)
            present = present || same(obj, d.objects[i]);
        if (present) {
            new_index[i] = kept.size();
            kept.push_back(std::move(d.objects[i]));
        } else {
            changed = true;
        }
    }
    std::vector<ProbeInfo> probes;
    std::map<unsigned, std::size_t> object_of;
    for (auto& probe : d.probes) {
        const std::size_t idx = new_index[d.object_of[probe.id]];
        if (idx == SIZE_MAX) {
            d.attacher.detach(probe.id);
            continue;
        }
        object_of[probe.id] = idx;
        probes.push_back(std::move(probe));
    }
    d.objects = std::move(kept);
    d.probes = std::move(probes);
    d.object_of = std::move(object_of);
    for (auto& obj : now) {
        bool known = false;
        for (const auto& old : d.objects)
            known = known || same(obj, old);
        if (!known) {
            d.add_object(std::move(obj));
            changed = true;
        }
    }
    return changed;
}

void ProbeControl::enable(unsigned id)
{
    Impl& d = *impl_;
    ProbeInfo& probe = d.probes[d.index_of(id, "enable")];
    if (probe.enabled)
        return;
    const ScannedObject& obj = d.objects[d.object_of[id]];
    d.attacher.attach(id, d.pid, obj.attach_path, probe.provider, probe.name,
                      [&d](const pctx_probe_hit& hit) { d.deliver(hit); });
    probe.enabled = true;
}

void ProbeControl::disable(unsigned id)
{
    Impl& d = *impl_;
    ProbeInfo& probe = d.probes[d.index_of(id, "disable")];
    d.attacher.detach(id);
    probe.enabled = false;
}

std::uint16_t ProbeControl::semaphore_value(unsigned id) const
{
    const ProbeInfo& p = probe(id);
    if (p.semaphore == 0)
        return 0;
    std::uint16_t value = 0;
    if (impl_->indirect) {
        if (const int rc = impl_->indirect->read(p.semaphore, &value, sizeof(value)); rc != 0)
            throw ProbeError(ProbeErrc::Internal, "semaphore",
                             "the read callback failed (returned " + std::to_string(rc) + ")");
        return value;
    }
    iovec local{&value, sizeof(value)};
    // An address in the target, never dereferenced here.
    iovec remote{reinterpret_cast<void*>(p.semaphore), // NOLINT(performance-no-int-to-ptr)
                 sizeof(value)};
    if (::process_vm_readv(impl_->pid, &local, 1, &remote, 1, 0) != sizeof(value)) {
        const int err = errno;
        throw ProbeError(err == ESRCH   ? ProbeErrc::BadPid
                         : err == EPERM ? ProbeErrc::Permission
                                        : ProbeErrc::Internal,
                         "semaphore",
                         "cannot read the semaphore of " + p.provider + ":" + p.name +
                             " in process " + std::to_string(impl_->pid) + ": " +
                             std::system_category().message(err));
    }
    return value;
}

int ProbeControl::poll(int timeout_ms)
{
    return impl_->attacher.poll(timeout_ms);
}
int ProbeControl::hits_fd() const
{
    return impl_->attacher.fd();
}
std::uint64_t ProbeControl::lost() const
{
    return impl_->attacher.lost();
}

void ProbeControl::on_hit(std::function<void(const ProbeHit&)> handler)
{
    impl_->hit_handler = std::move(handler);
}

} // namespace pctx
