#include "plugins/elf_symbols.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace trellis::plugins {

namespace {

// A read-only mapping of a whole file.
struct Mapped {
    explicit Mapped(const std::filesystem::path& file) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            size = static_cast<std::size_t>(st.st_size);
            void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) data = static_cast<const unsigned char*>(p);
        }
        ::close(fd);
    }
    ~Mapped() {
        if (data) ::munmap(const_cast<unsigned char*>(data), size);
    }
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;

    // A T at `offset`, or null when it would run past the end.
    template <class T>
    const T* at(std::uint64_t offset, std::uint64_t count = 1) const {
        if (!data || offset > size || count > (size - offset) / sizeof(T)) return nullptr;
        return reinterpret_cast<const T*>(data + offset);
    }
    const unsigned char* data = nullptr;
    std::size_t size = 0;
};

}  // namespace

ElfDynamic read_dynamic_symbols(const std::filesystem::path& file) {
    ElfDynamic out;
    const Mapped elf(file);
    const auto* header = elf.at<Elf64_Ehdr>(0);
    if (!header || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64)
        return out;
    const auto* sections = elf.at<Elf64_Shdr>(header->e_shoff, header->e_shnum);
    if (!sections) return out;

    const Elf64_Shdr* dynsym = nullptr;
    const Elf64_Shdr* dynamic = nullptr;
    for (unsigned i = 0; i < header->e_shnum; ++i) {
        if (sections[i].sh_type == SHT_DYNSYM) dynsym = &sections[i];
        if (sections[i].sh_type == SHT_DYNAMIC) dynamic = &sections[i];
    }
    if (!dynsym || dynsym->sh_link >= header->e_shnum || dynsym->sh_entsize != sizeof(Elf64_Sym)) return out;

    if (dynamic) {
        const auto count = dynamic->sh_size / sizeof(Elf64_Dyn);
        if (const auto* entries = elf.at<Elf64_Dyn>(dynamic->sh_offset, count))
            for (std::uint64_t i = 0; i < count; ++i) {
                if (entries[i].d_tag == DT_SYMBOLIC) out.symbolic = true;
                if (entries[i].d_tag == DT_FLAGS && (entries[i].d_un.d_val & DF_SYMBOLIC)) out.symbolic = true;
            }
    }

    const Elf64_Shdr& strtab = sections[dynsym->sh_link];
    const auto* names = elf.at<char>(strtab.sh_offset, strtab.sh_size);
    const auto count = dynsym->sh_size / sizeof(Elf64_Sym);
    const auto* symbols = elf.at<Elf64_Sym>(dynsym->sh_offset, count);
    if (!names || !symbols) return out;
    out.readable = true;
    for (std::uint64_t i = 1; i < count; ++i) {
        const Elf64_Sym& s = symbols[i];
        const auto binding = ELF64_ST_BIND(s.st_info), type = ELF64_ST_TYPE(s.st_info);
        if (binding != STB_GLOBAL && binding != STB_WEAK) continue;
        if (type != STT_FUNC && type != STT_OBJECT && !(s.st_shndx == SHN_UNDEF && type == STT_NOTYPE)) continue;
        if (ELF64_ST_VISIBILITY(s.st_other) != STV_DEFAULT || s.st_name >= strtab.sh_size) continue;
        std::string name(names + s.st_name, strnlen(names + s.st_name, strtab.sh_size - s.st_name));
        if (name.empty()) continue;
        out.symbols.push_back({std::move(name), s.st_shndx != SHN_UNDEF, type == STT_FUNC, binding == STB_WEAK});
    }
    return out;
}

std::vector<std::string> exported_functions(const ElfDynamic& elf) {
    std::vector<std::string> out;
    for (const auto& s : elf.symbols)
        if (s.defined && s.function && !s.weak) out.push_back(s.name);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace trellis::plugins
