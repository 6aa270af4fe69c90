#include "oracle/recording_helpers.hpp"

namespace bpfdiff::oracle {

RecordingHelpers::RecordingHelpers(const vm::HelperRegistry& real) : real_(&real) {
  for (uint32_t id : real.ids()) {
    const vm::HelperSpec* spec = real.find(id);
    real_specs_.push_back(*spec);
    slots_.push_back(std::make_unique<Slot>(Slot{spec, &log_}));
    wrapped_.add(vm::HelperSpec{id, spec->name, &RecordingHelpers::trampoline, slots_.back().get()});
  }
}

bool RecordingHelpers::wraps(const vm::HelperRegistry& real) const {
  if (&real != real_) return false;
  // The same address may hold another registry by now, or this one may
  // have gained or lost helpers: compare what calls would reach.
  const std::vector<uint32_t> ids = real.ids();
  if (ids.size() != real_specs_.size()) return false;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const vm::HelperSpec& was = real_specs_[i];
    const vm::HelperSpec* now = real.find(ids[i]);
    if (now == nullptr || now->id != was.id || now->fn != was.fn || now->user != was.user ||
        now->name != was.name) {
      return false;
    }
  }
  return true;
}

namespace {
thread_local std::unique_ptr<RecordingHelpers> spare;  // what the next Lease on this thread lends
}  // namespace

RecordingHelpers::Lease::Lease(const vm::HelperRegistry& real) : recorder_(std::move(spare)) {
  if (!recorder_ || !recorder_->wraps(real)) {
    recorder_ = std::make_unique<RecordingHelpers>(real);
    return;
  }
  // The specs are equal in content, but a registry rebuilt at the same
  // address holds them elsewhere: the slots must point at the live ones.
  for (std::size_t i = 0; i < recorder_->slots_.size(); ++i)
    recorder_->slots_[i]->real = real.find(recorder_->real_specs_[i].id);
  recorder_->log_.clear();
}

RecordingHelpers::Lease::~Lease() {
  spare = std::move(recorder_);
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
