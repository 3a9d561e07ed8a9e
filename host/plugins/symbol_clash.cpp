#include "plugins/symbol_clash.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <link.h>

#include <algorithm>
#include <cstring>
#include <set>

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

// The libraries the process had before main() (so before any plugin): a
// plugin dependency among them is the host's own instance, loaded once. A
// symbol of it that resolves to the executable instead is a copy
// relocation (the executable holds the canonical copy of, say, libstdc++'s
// typeinfo or glibc's __libc_single_threaded), not a second copy of the library.
const std::set<std::string>& startup_libraries() {
    static const std::set<std::string> names = [] {
        std::set<std::string> out;
        ::dl_iterate_phdr(
            [](dl_phdr_info* info, std::size_t, void* data) {
                if (info->dlpi_name && *info->dlpi_name) static_cast<std::set<std::string>*>(data)->insert(info->dlpi_name);
                return 0;
            },
            &out);
        return out;
    }();
    return names;
}
// Taken at start-up, not at the first plugin load: a reload must not count
// an earlier plugin's private libraries as the host's.
[[maybe_unused]] const bool g_startup_libraries_taken = !startup_libraries().empty();

}  // namespace

std::vector<SymbolClash> find_symbol_clashes(const std::filesystem::path& file, void* handle, bool deep,
                                             const std::vector<std::string>& ignore) {
    std::vector<SymbolClash> clashes;
    const Mapped elf(file);
    const auto* header = elf.at<Elf64_Ehdr>(0);
    if (!header || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64)
        return clashes;
    const auto* sections = elf.at<Elf64_Shdr>(header->e_shoff, header->e_shnum);
    if (!sections) return clashes;

    const Elf64_Shdr* dynsym = nullptr;
    const Elf64_Shdr* dynamic = nullptr;
    for (unsigned i = 0; i < header->e_shnum; ++i) {
        if (sections[i].sh_type == SHT_DYNSYM) dynsym = &sections[i];
        if (sections[i].sh_type == SHT_DYNAMIC) dynamic = &sections[i];
    }
    if (!dynsym || dynsym->sh_link >= header->e_shnum || dynsym->sh_entsize != sizeof(Elf64_Sym)) return clashes;

    bool symbolic = false;
    if (dynamic) {
        const auto count = dynamic->sh_size / sizeof(Elf64_Dyn);
        if (const auto* entries = elf.at<Elf64_Dyn>(dynamic->sh_offset, count))
            for (std::uint64_t i = 0; i < count; ++i) {
                if (entries[i].d_tag == DT_SYMBOLIC) symbolic = true;
                if (entries[i].d_tag == DT_FLAGS && (entries[i].d_un.d_val & DF_SYMBOLIC)) symbolic = true;
            }
    }
    const auto library_of = [](void* address) -> std::string {
        Dl_info info{};
        if (!address || ::dladdr(address, &info) == 0 || !info.dli_fname) return {};
        return info.dli_fname;
    };

    const Elf64_Shdr& strtab = sections[dynsym->sh_link];
    const auto* names = elf.at<char>(strtab.sh_offset, strtab.sh_size);
    const auto count = dynsym->sh_size / sizeof(Elf64_Sym);
    const auto* symbols = elf.at<Elf64_Sym>(dynsym->sh_offset, count);
    if (!names || !symbols) return clashes;
    for (std::uint64_t i = 1; i < count; ++i) {
        const Elf64_Sym& s = symbols[i];
        const auto binding = ELF64_ST_BIND(s.st_info), type = ELF64_ST_TYPE(s.st_info);
        if (binding != STB_GLOBAL && binding != STB_WEAK) continue;
        if (type != STT_FUNC && type != STT_OBJECT && !(s.st_shndx == SHN_UNDEF && type == STT_NOTYPE)) continue;
        if (ELF64_ST_VISIBILITY(s.st_other) != STV_DEFAULT || s.st_name >= strtab.sh_size) continue;
        const std::string name(names + s.st_name, strnlen(names + s.st_name, strtab.sh_size - s.st_name));
        if (name.empty() || std::find(ignore.begin(), ignore.end(), name) != ignore.end()) continue;
        const bool needed = s.st_shndx == SHN_UNDEF;
        if (needed ? deep || !handle : symbolic) continue;
        // What a call would reach: the global scope holds the executable and
        // the host's libraries (plugins are loaded RTLD_LOCAL, not in it).
        void* theirs = ::dlsym(RTLD_DEFAULT, name.c_str());
        const std::string host_library = library_of(theirs);
        if (host_library.empty()) continue;
        if (!needed) {
            clashes.push_back({SymbolClash::Kind::Defined, name, host_library, {}});
            continue;
        }
        // The plugin's own dependency tree, in its order: a different copy
        // there is one the plugin was built to call.
        void* own = ::dlsym(handle, name.c_str());
        if (!own || own == theirs) continue;
        const std::string own_library = library_of(own);
        if (own_library.empty() || own_library == file.string()) continue;
        if (startup_libraries().count(own_library)) continue;
        clashes.push_back({SymbolClash::Kind::Needed, name, host_library, own_library});
    }
    return clashes;
}

}  // namespace trellis::plugins
