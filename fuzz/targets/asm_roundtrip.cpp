// Assembler/disassembler round trip: every slot sequence disassembles to text
// that assembles back to the same bytes, and assembling arbitrary text never
// crashes. The input's first byte picks the direction.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "vm/isa/raw.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/disassembler.hpp"

using namespace bpfdiff;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool bytes_first = data[0] & 1;
  const uint8_t* rest = data + 1;
  const std::size_t n = size - 1;
  if (bytes_first) {
    const auto slots = isa::decode_slots({rest, n - n % isa::kSlotBytes});
    const std::string text = text::disassemble(slots);
    auto back = text::assemble(text);
    BPFDIFF_FUZZ_CHECK(back.ok(), "asm: disassembly does not assemble", text + "\n" + back.error().message);
    BPFDIFF_FUZZ_CHECK(back->slots == slots, "asm: round trip changed the bytes", text);
  } else {
    auto program = text::assemble(std::string_view(reinterpret_cast<const char*>(rest), n));
    if (!program) {
      BPFDIFF_FUZZ_CHECK(program.error().message.rfind("line ", 0) == 0, "asm: error without a line number",
                         program.error().message);
      return 0;
    }
    // Whatever assembled must survive the opposite round trip too.
    const std::string text = text::disassemble(program->slots);
    auto again = text::assemble(text);
    BPFDIFF_FUZZ_CHECK(again.ok() && again->slots == program->slots, "asm: reassembly changed the bytes",
                       text);
  }
  return 0;
}
