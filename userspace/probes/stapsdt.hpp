// Reads the USDT probes of one ELF object: its .note.stapsdt notes, with
// .stapsdt.base applied and each note's argument specs parsed.
#pragma once

#include "probes/arg_spec.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pctx::detail {

struct SdtNote {
    std::string provider;
    std::string name;
    std::uint64_t pc = 0;        // link-time address, .stapsdt.base applied
    std::uint64_t semaphore = 0; // link-time address, 0 when there is none
    std::string args_text;
    std::vector<ArgSpec> args;
};

struct SdtObject {
    bool is_dyn = false;           // ET_DYN: loaded at a bias
    std::uint64_t first_vaddr = 0; // page-aligned p_vaddr of the first PT_LOAD
    std::vector<SdtNote> notes;
};

// Called for a note that is skipped, with the reason.
using SdtDiagnostic = std::function<void(const std::string& message)>;

// Decodes one stapsdt note's descriptor (what follows the note header):
// three addresses, then provider, name and argument specs as C strings.
// std::nullopt with diag told when it is malformed.
std::optional<SdtNote> parse_stapsdt_desc(const unsigned char* desc, std::size_t size,
                                          const SdtDiagnostic& diag);

// Parses the object open at fd (libelf; the fd is not kept) or held in
// memory. Malformed notes are skipped through diag; an unreadable object
// gives std::nullopt, also told through diag.
std::optional<SdtObject> read_stapsdt(int fd, const SdtDiagnostic& diag);
std::optional<SdtObject> read_stapsdt_memory(const char* data, std::size_t size,
                                             const SdtDiagnostic& diag);

} // namespace pctx::detail
