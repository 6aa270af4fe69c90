#pragma once
// `bpfdiff disasm prog.o`: an ELF object as the loader sees it -- its maps, its
// programs and subprograms, and every instruction of every code section with
// the relocations resolved (which map, which global-data offset, which
// function a call or address goes to) and helper calls named.
#include <string>

#include "vm/elf/elf_loader.hpp"
#include "vm/runtime/helpers.hpp"

namespace bpfdiff::cli {

struct ElfListingOptions {
  bool raw_bytes = false;  // append each slot's bytes
};

std::string elf_listing(const elf::ElfObject& object, const vm::HelperRegistry& helpers,
                        const ElfListingOptions& options = {});

}  // namespace bpfdiff::cli
