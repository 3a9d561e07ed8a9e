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
    std::string symbol;
    std::string host_library;  // the file that defines the copy calls reach
};

// Reads the ELF dynamic symbol table of `file` (no plugin code runs). Empty
// when the file binds its own symbols (DT_SYMBOLIC / DF_SYMBOLIC), or is not
// a readable 64-bit ELF file. `ignore` holds the names the plugin must
// export (its entry symbol and handlers).
std::vector<SymbolClash> find_symbol_clashes(const std::filesystem::path& file, const std::vector<std::string>& ignore);

}  // namespace trellis::plugins
