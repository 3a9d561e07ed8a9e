// Symbols a plugin defines and exports that a library of the host defines
// too. Unless the plugin was linked -Bsymbolic (trellis_add_plugin() does
// that), its own calls to such a symbol reach the host's copy: the host's
// libraries come first in the dynamic linker's lookup. The loader warns.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::plugins {

struct SymbolClash {
    enum class Kind {
        Defined,  // the plugin defines and exports it
        Needed,   // the plugin needs it, and one of its own dependencies defines it
    } kind = Kind::Defined;
    std::string symbol;
    std::string host_library;  // the file that defines the copy calls reach
    std::string own_library;   // Needed: the plugin's dependency that defines it too
};

// Reads the ELF dynamic symbol table of `file` (no plugin code runs) and
// compares with what the host's global scope defines. `handle` is the
// plugin's dlopen handle (for Needed: where its own dependencies would
// resolve the symbol). Defined clashes are skipped when the file binds its
// own symbols (DT_SYMBOLIC / DF_SYMBOLIC); Needed ones when it was loaded
// with RTLD_DEEPBIND (`deep`). `ignore` holds the names the plugin must
// export (its entry symbol and handlers).
std::vector<SymbolClash> find_symbol_clashes(const std::filesystem::path& file, void* handle, bool deep,
                                             const std::vector<std::string>& ignore);

}  // namespace trellis::plugins
