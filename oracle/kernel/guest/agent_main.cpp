// bpfdiff-agent: /init of the QEMU guest. Sets the guest up (guest_init.hpp)
// and serves KernelRequests from the host with the kernel executor, the same
// one the kernel-host engine uses on this machine, tracing the kernel's
// verifier/JIT coverage around each request that asks for it.
#include <memory>

#include "oracle/kernel/guest/guest_init.hpp"
#include "oracle/kernel/guest/kcov_tracer.hpp"
#include "oracle/kernel/kernel_coverage.hpp"
#include "oracle/kernel/kernel_executor.hpp"

int main() {
  using namespace bpfdiff::oracle::kernel;
  // The executor needs /proc (sysctls), so it is created once /init has
  // mounted it, inside the first request.
  std::unique_ptr<KernelExecutor> executor;
  std::string setup_error;
  // KCOV is opened by the first request that asks for coverage, on the
  // thread that serves requests (the one it traces); a kernel without it
  // says so once and every later request gets the same note.
  std::unique_ptr<guest::KcovTracer> kcov;
  std::string kcov_error;
  EdgeSet reported;  // every edge this agent has sent: each goes to the host once
  guest::run_as_init([&](const KernelRequest& request) {
    if (!executor && setup_error.empty()) {
      // The guest is disposable, so helper calls may act on it.
      ExecutorOptions options;
      options.allow_helper_calls = true;
      auto created = KernelExecutor::create(options);
      if (created)
        executor = std::move(*created);
      else
        setup_error = "kernel executor unavailable in the guest: " + created.error().message;
    }
    if (!executor) {
      KernelResponse failed;
      failed.verdict = KernelVerdict::Failed;
      failed.log = setup_error;
      failed.kernel_release = guest::kernel_release();
      return failed;
    }
    const bool want_coverage = (request.flags & kWantCoverage) != 0;
    if (want_coverage && !kcov && kcov_error.empty()) {
      auto opened = guest::KcovTracer::open();
      if (opened)
        kcov = std::move(*opened);
      else
        kcov_error = opened.error().message;
    }
    if (want_coverage && kcov) kcov->begin();
    KernelResponse response = executor->execute(request);
    if (want_coverage && kcov) {
      const auto pcs = kcov->end();
      response.coverage.state = CoverageState::Collected;
      response.coverage.trace_pcs = pcs.size();
      response.coverage.truncated = kcov->truncated();
      new_edges_of_trace(pcs, reported, response.coverage.new_edges);
    } else if (want_coverage) {
      response.coverage.state = CoverageState::Unavailable;
      response.coverage.note = kcov_error;
    }
    return response;
  });
}
