#include "probes/probe_scan.hpp"

#include "probes/stapsdt.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace pctx::detail {

namespace {

// Data files are mapped too (locale archives, caches): not objects at all.
bool is_elf(int fd)
{
    char magic[4] = {};
    return ::pread(fd, magic, sizeof(magic), 0) == 4 && std::memcmp(magic, "\177ELF", 4) == 0;
}

} // namespace

std::vector<ScannedObject> scan_pid(pid_t pid, const char* function, const Diagnostic& diag)
{
    try {
        return mapped_objects(pid, diag);
    } catch (const std::system_error& e) {
        const int err = e.code().value();
        if (err == ESRCH || err == ENOENT)
            throw ProbeError(ProbeErrc::BadPid, function, "no process " + std::to_string(pid));
        if (err == EACCES || err == EPERM)
            throw ProbeError(ProbeErrc::Permission, function,
                             "cannot read /proc/" + std::to_string(pid) +
                                 "/maps: run as the target's user or with CAP_SYS_PTRACE");
        throw ProbeError(ProbeErrc::Internal, function, e.what());
    }
}

std::vector<ScannedObject> scan_indirect(const ProbeIndirectConfig& config, const char* function,
                                         const Diagnostic& diag)
{
    std::vector<ScannedObject> objects;
    const int rc = config.obj_iter([&](const ProbeObjectInfo& info) {
        ScannedObject obj;
        obj.name = info.objname.empty() ? "fd " + std::to_string(info.objfd) : info.objname;
        obj.text_base = info.text_base;
        if (info.objfd >= 0) {
            // Our own copy: the caller closes its fd when the iteration ends.
            obj.fd.reset(::fcntl(info.objfd, F_DUPFD_CLOEXEC, 3));
            // libbpf opens a path: the kernel follows this link to the same
            // file, whatever mount namespace it lives in.
            obj.attach_path = "/proc/self/fd/" + std::to_string(obj.fd.get());
            // The plain name when it is that file here: kernels without BPF
            // cookies need it (see usdt_attach.cpp).
            struct stat by_fd {};
            struct stat by_name {};
            if (obj.fd && !info.objname.empty() && ::fstat(obj.fd.get(), &by_fd) == 0 &&
                ::stat(info.objname.c_str(), &by_name) == 0 && by_fd.st_dev == by_name.st_dev &&
                by_fd.st_ino == by_name.st_ino)
                obj.attach_path = info.objname;
        } else {
            obj.fd.reset(::open(info.objname.c_str(), O_RDONLY | O_CLOEXEC));
            obj.attach_path = info.objname;
        }
        if (!obj.fd) {
            diag(obj.name + ": cannot open it (" + std::strerror(errno) +
                 "); its probes are not listed");
            return 0;
        }
        objects.push_back(std::move(obj));
        return 0;
    });
    if (rc != 0)
        throw ProbeError(ProbeErrc::Internal, function,
                         "the obj_iter callback failed (returned " + std::to_string(rc) + ")");
    return objects;
}

ScannedObject scan_file(const std::string& path)
{
    ScannedObject obj;
    obj.name = path;
    obj.attach_path = path;
    obj.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!obj.fd)
        throw ProbeError(errno == EACCES ? ProbeErrc::Permission : ProbeErrc::BadArg, "list",
                         "cannot open " + path + ": " + std::strerror(errno));
    if (!is_elf(obj.fd.get()))
        throw ProbeError(ProbeErrc::BadArg, "list", path + " is not an ELF file");
    return obj;
}

std::vector<ProbeInfo> object_probes(const ScannedObject& obj, const Diagnostic& diag)
{
    const auto tell = [&](const std::string& message) {
        diag(obj.name + ": " + message);
    };
    std::vector<ProbeInfo> probes;
    if (!is_elf(obj.fd.get()))
        return probes;
    const auto sdt = read_stapsdt(obj.fd.get(), tell);
    if (!sdt)
        return probes;
    // Shared objects and PIEs are linked at 0 and loaded at a bias.
    const std::uint64_t bias =
        sdt->is_dyn && obj.text_base != 0 ? obj.text_base - sdt->first_vaddr : 0;
    for (const SdtNote& note : sdt->notes) {
        ProbeInfo* probe = nullptr;
        for (auto& p : probes)
            if (p.provider == note.provider && p.name == note.name)
                probe = &p;
        if (probe == nullptr) {
            probe = &probes.emplace_back();
            probe->provider = note.provider;
            probe->name = note.name;
            probe->object = obj.name;
            probe->semaphore = note.semaphore != 0 ? note.semaphore + bias : 0;
            for (const ArgSpec& arg : note.args)
                probe->args.push_back({arg_type_name(arg), arg.text});
        } else if (probe->args.size() != note.args.size()) {
            tell("probe " + note.provider + ":" + note.name +
                 " has sites with different argument counts; the first site's are shown");
        }
        probe->addresses.push_back(note.pc + bias);
    }
    return probes;
}

} // namespace pctx::detail
