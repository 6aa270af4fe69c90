#pragma once
// A guest failure (panic, oops, hang, death) is a finding about the kernel:
// the request that caused it, the kernel release and the console log go to
// disk before the guest is restored, so nothing is lost if the host dies next.
#include <string>

#include "oracle/kernel/guest/guest_machine.hpp"
#include "oracle/kernel/kernel_request.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

// Writes DIR/guest-KIND-TIME-HASH/ with finding.json (kind, detail, kernel
// release, flags, sizes, VMM exit status), program.bin (raw slots),
// memory.bin and console.log. The directory appears atomically (written
// under a temporary name, then renamed), so a reader never sees half of it.
// Returns its path.
Result<std::string> write_guest_finding(const std::string& dir, const KernelRequest& request,
                                        const GuestFailure& failure, const std::string& kernel_release);

}  // namespace bpfdiff::oracle::kernel::guest
