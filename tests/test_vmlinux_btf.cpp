// The preflight's own walk of the kernel's BTF must find the ids libbpf's
// full parse finds: the tp_btf probe loads a program against that id.
#include "checks/vmlinux_btf.hpp"

#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <memory>

namespace {

struct BtfFree {
    void operator()(btf* b) const { btf__free(b); }
};

} // namespace

// [bpf]: also run inside the vmtests kernels, whose BTF (5.10 to 6.12) the
// kernel will not map, so the walk reads it instead.
TEST_CASE("the kernel BTF walk finds what libbpf finds", "[checks][bpf]")
{
    const std::unique_ptr<btf, BtfFree> full(btf__load_vmlinux_btf());
    REQUIRE(full);
    struct Wanted {
        const char* name;
        unsigned kind;
    };
    for (const Wanted w : {Wanted{"btf_trace_sched_process_exec", BTF_KIND_TYPEDEF},
                           Wanted{"btf_trace_sched_switch", BTF_KIND_TYPEDEF},
                           Wanted{"task_struct", BTF_KIND_STRUCT}, Wanted{"int", BTF_KIND_INT}}) {
        INFO(w.name);
        const int expected = btf__find_by_name_kind(full.get(), w.name, w.kind);
        REQUIRE(expected > 0);
        CHECK(pctx::detail::find_vmlinux_type_id(w.name, w.kind) == expected);
    }
    // The last type, which the walk reaches only by sizing every one before it.
    const int last = static_cast<int>(btf__type_cnt(full.get())) - 1;
    const btf_type* t = btf__type_by_id(full.get(), static_cast<__u32>(last));
    const char* last_name = btf__name_by_offset(full.get(), t->name_off);
    if (last_name && *last_name) {
        INFO(last_name);
        CHECK(pctx::detail::find_vmlinux_type_id(last_name, btf_kind(t)) ==
              btf__find_by_name_kind(full.get(), last_name, btf_kind(t)));
    }
    CHECK(pctx::detail::find_vmlinux_type_id("btf_trace_no_such_tracepoint", BTF_KIND_TYPEDEF) ==
          0);
    // A name of another kind is not taken for it.
    CHECK(pctx::detail::find_vmlinux_type_id("task_struct", BTF_KIND_TYPEDEF) == 0);
}
