// .note.stapsdt through libelf, as bcc, bpftrace and Tetragon do it: libbpf
// 1.1 parses the notes too but has no public API to list them.
#include "probes/stapsdt.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>
#include <memory>

namespace pctx::detail {

namespace {

constexpr unsigned kStapsdtType = 3; // NT_STAPSDT
constexpr std::size_t kAddrsSize = 3 * sizeof(std::uint64_t);

struct ElfDeleter {
    void operator()(Elf* elf) const noexcept { elf_end(elf); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

// The next C string of [pos, size), advancing pos past its NUL.
std::optional<std::string> take_string(const unsigned char* desc, std::size_t size,
                                       std::size_t& pos)
{
    if (pos >= size)
        return std::nullopt;
    const void* nul = std::memchr(desc + pos, '\0', size - pos);
    if (nul == nullptr)
        return std::nullopt;
    const auto len =
        static_cast<std::size_t>(static_cast<const unsigned char*>(nul) - (desc + pos));
    std::string s(reinterpret_cast<const char*>(desc + pos), len);
    pos += len + 1;
    return s;
}

std::optional<SdtObject> read_elf(Elf* elf, const SdtDiagnostic& diag)
{
    GElf_Ehdr ehdr;
    if (elf == nullptr || elf_kind(elf) != ELF_K_ELF || gelf_getehdr(elf, &ehdr) == nullptr) {
        diag(std::string("not an ELF object: ") + elf_errmsg(-1));
        return std::nullopt;
    }
    SdtObject obj;
    obj.is_dyn = ehdr.e_type == ET_DYN;
    std::size_t phnum = 0;
    if (elf_getphdrnum(elf, &phnum) == 0) {
        for (std::size_t i = 0; i < phnum; ++i) {
            GElf_Phdr phdr;
            if (gelf_getphdr(elf, static_cast<int>(i), &phdr) != nullptr &&
                phdr.p_type == PT_LOAD) {
                obj.first_vaddr = phdr.p_vaddr & ~std::uint64_t{0xfff};
                break;
            }
        }
    }
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
        diag(std::string("no section names: ") + elf_errmsg(-1));
        return std::nullopt;
    }
    // .stapsdt.base first: each note's own base is compared against it.
    std::optional<std::uint64_t> base_addr;
    std::vector<Elf_Scn*> note_sections;
    for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr)
            continue;
        const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (name == nullptr)
            continue;
        if (std::strcmp(name, ".stapsdt.base") == 0)
            base_addr = shdr.sh_addr;
        else if (shdr.sh_type == SHT_NOTE && std::strcmp(name, ".note.stapsdt") == 0)
            note_sections.push_back(scn);
    }
    for (Elf_Scn* scn : note_sections) {
        Elf_Data* data = elf_getdata(scn, nullptr);
        if (data == nullptr || data->d_buf == nullptr)
            continue;
        std::size_t offset = 0;
        GElf_Nhdr nhdr;
        std::size_t name_off = 0;
        std::size_t desc_off = 0;
        while (offset < data->d_size &&
               (offset = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
            const auto* buf = static_cast<const unsigned char*>(data->d_buf);
            if (nhdr.n_type != kStapsdtType || nhdr.n_namesz != 8 ||
                std::memcmp(buf + name_off, "stapsdt", 8) != 0)
                continue;
            // The pc and base words are read again here to apply the base.
            std::uint64_t note_base = 0;
            auto note = parse_stapsdt_desc(buf + desc_off, nhdr.n_descsz, diag);
            if (!note)
                continue;
            std::memcpy(&note_base, buf + desc_off + sizeof(std::uint64_t), sizeof(note_base));
            // Prelink or a linker may have moved the sections: the note's
            // base says where .stapsdt.base was when the note was written.
            if (base_addr && note_base != 0) {
                note->pc += *base_addr - note_base;
                if (note->semaphore != 0)
                    note->semaphore += *base_addr - note_base;
            }
            obj.notes.push_back(std::move(*note));
        }
    }
    return obj;
}

void init_libelf()
{
    static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
    (void)ready;
}

} // namespace

std::optional<SdtNote> parse_stapsdt_desc(const unsigned char* desc, std::size_t size,
                                          const SdtDiagnostic& diag)
{
    if (size < kAddrsSize + 3) {
        diag("stapsdt note too short (" + std::to_string(size) + " bytes)");
        return std::nullopt;
    }
    SdtNote note;
    std::memcpy(&note.pc, desc, sizeof(note.pc));
    std::memcpy(&note.semaphore, desc + 2 * sizeof(std::uint64_t), sizeof(note.semaphore));
    std::size_t pos = kAddrsSize;
    auto provider = take_string(desc, size, pos);
    auto name = provider ? take_string(desc, size, pos) : std::nullopt;
    auto args = name ? take_string(desc, size, pos) : std::nullopt;
    if (!args || provider->empty() || name->empty()) {
        diag("stapsdt note with missing or unterminated provider, name or arguments");
        return std::nullopt;
    }
    note.provider = std::move(*provider);
    note.name = std::move(*name);
    note.args_text = std::move(*args);
    auto parsed = parse_arg_specs(note.args_text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        diag("probe " + note.provider + ":" + note.name + " skipped: " + *error);
        return std::nullopt;
    }
    note.args = std::move(std::get<std::vector<ArgSpec>>(parsed));
    return note;
}

std::optional<SdtObject> read_stapsdt(int fd, const SdtDiagnostic& diag)
{
    init_libelf();
    const ElfPtr elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr));
    return read_elf(elf.get(), diag);
}

std::optional<SdtObject> read_stapsdt_memory(const char* data, std::size_t size,
                                             const SdtDiagnostic& diag)
{
    init_libelf();
    // libelf's API takes a mutable pointer but only reads with ELF_C_READ.
    const ElfPtr elf(elf_memory(const_cast<char*>(data), size));
    return read_elf(elf.get(), diag);
}

} // namespace pctx::detail
