#include "checks/vmlinux_btf.hpp"

#include <fcntl.h>
#include <linux/btf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace pctx::detail {
namespace {

constexpr const char* kVmlinux = "/sys/kernel/btf/vmlinux";

// The file's bytes: mapped where the kernel allows it (6.16 on), which
// copies nothing, else read into one buffer (sysfs gives 4 KiB a read).
class Contents {
public:
    explicit Contents(const char* path)
    {
        const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            size_ = static_cast<std::size_t>(st.st_size);
            void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map != MAP_FAILED) {
                mapped_ = map;
                data_ = static_cast<const unsigned char*>(map);
            } else {
                read_all(fd);
            }
        }
        ::close(fd);
    }
    ~Contents()
    {
        if (mapped_)
            ::munmap(mapped_, size_);
    }
    Contents(const Contents&) = delete;
    Contents& operator=(const Contents&) = delete;

    const unsigned char* data() const { return data_; }
    std::size_t size() const { return data_ ? size_ : 0; }

private:
    void read_all(int fd)
    {
        buffer_ = std::make_unique<unsigned char[]>(size_);
        std::size_t got = 0;
        while (got < size_) {
            const ssize_t n =
                ::pread(fd, buffer_.get() + got, size_ - got, static_cast<off_t>(got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        size_ = got;
        data_ = buffer_.get();
    }

    void* mapped_ = nullptr;
    std::unique_ptr<unsigned char[]> buffer_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

// Bytes that follow a btf_type of KIND with VLEN members, or -1 if unknown.
long trailer_bytes(unsigned kind, unsigned vlen)
{
    switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return 4;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        return 0;
    case BTF_KIND_ARRAY:
        return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
        return static_cast<long>(vlen * sizeof(btf_member));
    case BTF_KIND_ENUM:
        return static_cast<long>(vlen * sizeof(btf_enum));
    case BTF_KIND_FUNC_PROTO:
        return static_cast<long>(vlen * sizeof(btf_param));
    case BTF_KIND_DATASEC:
        return static_cast<long>(vlen * sizeof(btf_var_secinfo));
    case BTF_KIND_ENUM64:
        return static_cast<long>(vlen * sizeof(btf_enum64));
    default:
        return -1;
    }
}

} // namespace

int find_vmlinux_type_id(const char* name, unsigned kind)
{
    const Contents file(kVmlinux);
    if (!file.data())
        return -ENOENT;
    const unsigned char* base = file.data();
    const std::size_t size = file.size();
    btf_header h{};
    if (size < sizeof(h))
        return -EOPNOTSUPP;
    std::memcpy(&h, base, sizeof(h));
    // The kernel's own BTF is in its own byte order: a swapped magic is not it.
    if (h.magic != BTF_MAGIC || h.version != BTF_VERSION || h.hdr_len < sizeof(h) ||
        std::uint64_t{h.hdr_len} + h.type_off + h.type_len > size ||
        std::uint64_t{h.hdr_len} + h.str_off + h.str_len > size)
        return -EOPNOTSUPP;
    const unsigned char* types = base + h.hdr_len + h.type_off;
    const char* strings = reinterpret_cast<const char*>(base + h.hdr_len + h.str_off);
    const std::size_t name_len = std::strlen(name);

    std::size_t at = 0;
    for (int id = 1; at + sizeof(btf_type) <= h.type_len; ++id) {
        btf_type t{};
        std::memcpy(&t, types + at, sizeof(t));
        const unsigned k = BTF_INFO_KIND(t.info);
        const long extra = trailer_bytes(k, BTF_INFO_VLEN(t.info));
        if (extra < 0)
            return -EOPNOTSUPP;
        if (k == kind && t.name_off + name_len < h.str_len &&
            std::memcmp(strings + t.name_off, name, name_len + 1) == 0)
            return id;
        at += sizeof(btf_type) + static_cast<std::size_t>(extra);
    }
    return 0;
}

} // namespace pctx::detail
