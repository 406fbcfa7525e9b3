// libFuzzer target for the probe parsers: the first byte picks what the rest
// is. 0: argument specs ("-4@-20(%rbp) 8@%rdi"); 1: the bytes of a
// .note.stapsdt section, each note's descriptor parsed; 2: a whole ELF
// object read through libelf. No input may crash, leak or hit UB.
#include "probes/arg_spec.hpp"
#include "probes/stapsdt.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

std::uint32_t word(const std::uint8_t* p)
{
    std::uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

// Walks note headers (namesz, descsz, type, name, desc; 4-byte aligned) as
// they sit in a section, handing each descriptor to the parser.
void walk_notes(const std::uint8_t* data, std::size_t size)
{
    const pctx::detail::SdtDiagnostic quiet = [](const std::string&) {
    };
    std::size_t pos = 0;
    while (size - pos >= 12) {
        const std::size_t namesz = word(data + pos);
        const std::size_t descsz = word(data + pos + 4);
        pos += 12;
        const std::size_t name_span = (namesz + 3) & ~std::size_t{3};
        if (name_span > size - pos)
            return;
        pos += name_span;
        if (descsz > size - pos)
            return;
        (void)pctx::detail::parse_stapsdt_desc(data + pos, descsz, quiet);
        pos += (descsz + 3) & ~std::size_t{3};
        if (pos > size)
            return;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t mode = data[0] % 3;
    ++data;
    --size;
    const pctx::detail::SdtDiagnostic quiet = [](const std::string&) {
    };
    if (mode == 0) {
        (void)pctx::detail::parse_arg_specs(std::string(reinterpret_cast<const char*>(data), size));
    } else if (mode == 1) {
        walk_notes(data, size);
    } else {
        (void)pctx::detail::read_stapsdt_memory(reinterpret_cast<const char*>(data), size, quiet);
    }
    return 0;
}
