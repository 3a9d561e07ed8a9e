#include "plugins/symbol_clash.hpp"

#include "plugins/elf_symbols.hpp"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <set>

namespace trellis::plugins {

namespace {

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
    const ElfDynamic elf = read_dynamic_symbols(file);
    const auto library_of = [](void* address) -> std::string {
        Dl_info info{};
        if (!address || ::dladdr(address, &info) == 0 || !info.dli_fname) return {};
        return info.dli_fname;
    };
    for (const auto& symbol : elf.symbols) {
        const std::string& name = symbol.name;
        if (std::find(ignore.begin(), ignore.end(), name) != ignore.end()) continue;
        const bool needed = !symbol.defined;
        if (needed ? deep || !handle : elf.symbolic) continue;
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
