// One named type's id in the kernel's BTF, found by walking the raw type
// section once instead of parsing it all (btf__load_vmlinux_btf builds
// indexes over 5 MB the preflight throws away; the loader parses it anyway).
#pragma once

namespace pctx::detail {

// The id of the type NAME of KIND (a BTF_KIND_*) in /sys/kernel/btf/vmlinux:
// > 0 found, 0 not there, -ENOENT no kernel BTF, -EOPNOTSUPP a layout this
// walk does not know (a newer BTF version or kind: ask libbpf instead).
int find_vmlinux_type_id(const char* name, unsigned kind);

} // namespace pctx::detail
