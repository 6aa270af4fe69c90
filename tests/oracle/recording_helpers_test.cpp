// The helper-call recorder the engines run through: a lease lends a
// per-thread recorder, which must still record exactly the calls of its own
// lease and follow the registry it wraps when that changes.
#include "oracle/recording_helpers.hpp"

#include <gtest/gtest.h>

namespace bpfdiff::oracle {
namespace {

uint64_t add_one(vm::HelperCall& call) {
  return call.args[0] + 1;
}

uint64_t add_user(vm::HelperCall& call) {
  return call.args[0] + *static_cast<const uint64_t*>(call.user);
}

// A call of helper `id` through `registry` as an engine makes it.
uint64_t call_through(const vm::HelperRegistry& registry, uint32_t id, uint64_t arg, uint32_t pc) {
  const vm::HelperSpec* spec = registry.find(id);
  EXPECT_NE(spec, nullptr) << id;
  if (spec == nullptr) return 0;
  vm::HelperCall call;
  call.args[0] = arg;
  call.user = spec->user;
  call.pc = pc;
  return spec->fn(call);
}

TEST(RecordingHelpers, ALeaseRecordsItsCallsWithTheRealHelpersResult) {
  vm::HelperRegistry real;
  real.add({7, "add_one", &add_one, nullptr});
  const RecordingHelpers::Lease lease(real);
  EXPECT_EQ(call_through(lease->registry(), 7, 41, 3), 42u);
  ASSERT_EQ(lease->log().size(), 1u);
  EXPECT_EQ(lease->log()[0].pc, 3u);
  EXPECT_EQ(lease->log()[0].helper, 7u);
  EXPECT_EQ(lease->log()[0].args[0], 41u);
  EXPECT_EQ(lease->log()[0].result, 42u);
}

TEST(RecordingHelpers, TheNextLeaseStartsWithAnEmptyLogAndFollowsTheRegistry) {
  vm::HelperRegistry real;
  real.add({7, "add_one", &add_one, nullptr});
  {
    const RecordingHelpers::Lease lease(real);
    call_through(lease->registry(), 7, 1, 0);
  }
  uint64_t ten = 10;
  real.add({8, "add_user", &add_user, &ten});
  {
    const RecordingHelpers::Lease lease(real);
    EXPECT_TRUE(lease->log().empty());
    EXPECT_EQ(call_through(lease->registry(), 8, 5, 1), 15u);
    ASSERT_EQ(lease->log().size(), 1u);
    EXPECT_EQ(lease->log()[0].helper, 8u);
  }
  uint64_t twenty = 20;
  real.add({8, "add_user", &add_user, &twenty});  // the same id, another user pointer
  {
    const RecordingHelpers::Lease lease(real);
    EXPECT_EQ(call_through(lease->registry(), 8, 5, 1), 25u);
  }
}

TEST(RecordingHelpers, ALeaseTakenWhileAnotherIsHeldRecordsApart) {
  vm::HelperRegistry real;
  real.add({7, "add_one", &add_one, nullptr});
  const RecordingHelpers::Lease outer(real);
  call_through(outer->registry(), 7, 1, 0);
  {
    const RecordingHelpers::Lease inner(real);
    EXPECT_NE(&*inner, &*outer);
    EXPECT_TRUE(inner->log().empty());
    call_through(inner->registry(), 7, 2, 0);
    call_through(inner->registry(), 7, 3, 0);
    EXPECT_EQ(inner->log().size(), 2u);
  }
  EXPECT_EQ(outer->log().size(), 1u);
  call_through(outer->registry(), 7, 4, 0);
  EXPECT_EQ(outer->log().size(), 2u);
}

TEST(RecordingHelpers, ALeaseOverAnotherRegistryWrapsThatOne) {
  vm::HelperRegistry first;
  first.add({7, "add_one", &add_one, nullptr});
  uint64_t hundred = 100;
  vm::HelperRegistry second;
  second.add({7, "add_user", &add_user, &hundred});
  {
    const RecordingHelpers::Lease lease(first);
    EXPECT_EQ(call_through(lease->registry(), 7, 1, 0), 2u);
  }
  const RecordingHelpers::Lease lease(second);
  EXPECT_EQ(call_through(lease->registry(), 7, 1, 0), 101u);
}

}  // namespace
}  // namespace bpfdiff::oracle
