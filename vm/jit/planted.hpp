#pragma once
// The JIT bug a build has planted on purpose, if any. Its own header so that
// only the tools that announce it depend on it.
#include <string_view>

namespace bpfdiff::jit {

// The name of the JIT bug this build has planted on purpose (CMake option
// BPFDIFF_PLANT_JIT_BUG, e.g. "jsgt32-sign"), or "" -- always "" outside the
// build directories of scripts/planted-bug.sh. Tools print it so that a
// planted binary never passes for a real one.
std::string_view planted_bug();

}  // namespace bpfdiff::jit
