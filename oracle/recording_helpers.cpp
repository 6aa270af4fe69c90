#include "oracle/recording_helpers.hpp"

namespace bpfdiff::oracle {

RecordingHelpers::RecordingHelpers(const vm::HelperRegistry& real) {
  for (uint32_t id : real.ids()) {
    const vm::HelperSpec* spec = real.find(id);
    slots_.push_back(std::make_unique<Slot>(Slot{spec, &log_}));
    wrapped_.add(vm::HelperSpec{id, spec->name, &RecordingHelpers::trampoline, slots_.back().get()});
  }
}

uint64_t RecordingHelpers::trampoline(vm::HelperCall& call) {
  const Slot& slot = *static_cast<const Slot*>(call.user);
  HelperCallRecord record;
  record.pc = call.pc;
  record.helper = slot.real->id;
  std::copy(std::begin(call.args), std::end(call.args), record.args.begin());
  call.user = slot.real->user;
  record.result = slot.real->fn(call);
  slot.log->push_back(record);
  return record.result;
}

}  // namespace bpfdiff::oracle
