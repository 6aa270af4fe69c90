#pragma once
// The real VMM: qemu-system-x86_64 running the guest image built by
// scripts/build-guest.sh, its console captured to a file, the agent's port on
// a virtio-serial unix socket, pvpanic turning a kernel panic into exit
// status 1, and snapshots as migration files.
#include <string>

#include "oracle/kernel/guest/vmm.hpp"

namespace bpfdiff::oracle::kernel::guest {

// A built guest image (OUT/current of build-guest.sh).
struct GuestImage {
  std::string dir;
  std::string kernel;     // vmlinuz
  std::string initramfs;  // initramfs.cpio
  std::string release;    // uname -r of the kernel
};

// The image directory: $BPFDIFF_GUEST_DIR, else build/guest/current of the
// source tree this binary was built from.
std::string default_image_dir();
// The image in `dir`, or why there is none ("... run scripts/build-guest.sh").
Result<GuestImage> find_guest_image(const std::string& dir);

struct QemuOptions {
  std::string qemu = "qemu-system-x86_64";
  bool kvm = false;  // else TCG
  int memory_mb = 256;
  // Extra kernel command-line words (tests add kFaultsAllowedArg).
  std::string extra_cmdline;
};

class QemuVmm : public Vmm {
 public:
  QemuVmm(GuestImage image, QemuOptions options) : image_(std::move(image)), options_(std::move(options)) {}
  std::string describe() const override;
  std::vector<std::string> boot_command(const GuestPaths& paths) const override;
  std::vector<std::string> restore_command(const GuestPaths& paths) const override;
  Result<void> save_snapshot(const GuestPaths& paths, ChildProcess& vmm,
                             Clock::time_point deadline) const override;
  bool exit_means_panic(int status) const override { return status == 1; }

  const GuestImage& image() const { return image_; }

 private:
  GuestImage image_;
  QemuOptions options_;
};

// Whether `qemu` runs here at all ("qemu-system-x86_64 is not installed").
Result<void> probe_qemu(const std::string& qemu);
// Whether KVM can be used: /dev/kvm opens read-write. (It may still fail to
// boot the guest; the pool then falls back to TCG.)
bool kvm_device_usable();

}  // namespace bpfdiff::oracle::kernel::guest
