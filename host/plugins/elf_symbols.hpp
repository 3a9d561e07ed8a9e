// The dynamic symbol table of an ELF shared library, read from the file
// (mapped read-only; no code of it runs). The loader compares it with the
// host's symbols, `trellis inspect` lists what a plugin exports, and a
// manifest handler that is not exported is matched against it for a hint.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::plugins {

struct ElfSymbol {
    std::string name;
    bool defined = false;   // false: the library needs it from elsewhere
    bool function = false;  // STT_FUNC (else an object, or an undefined NOTYPE)
    bool weak = false;      // STB_WEAK: e.g. an inline or template function's copy
};

struct ElfDynamic {
    bool readable = false;  // a 64-bit ELF file with a dynamic symbol table
    bool symbolic = false;  // DT_SYMBOLIC / DF_SYMBOLIC: binds its own symbols first
    // Global and weak symbols of default visibility: functions, objects,
    // and undefined references; table order.
    std::vector<ElfSymbol> symbols;
};

ElfDynamic read_dynamic_symbols(const std::filesystem::path& file);

// The functions `file` defines and exports (strong symbols only: weak ones
// are the compiler's copies of inline and template code), sorted by name.
std::vector<std::string> exported_functions(const ElfDynamic& elf);

}  // namespace trellis::plugins
