// pgl: Prior-Guided Local self-supervised learning for 3D medical image segmentation.
// Exit status: 0 success, 1 bad input or failed run, 2 usage error.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/core/memory.h"
#include "pgl/core/version.h"

namespace {
// LibTorch's OpenMP threads busy-wait between parallel regions by default. On a machine whose cores are
// shared (data workers, other jobs) that spinning steals the cores and steps get several times slower.
// libgomp reads OMP_WAIT_POLICY only when it is loaded, so the program re-executes itself once with it set.
// An explicit setting by the user is kept.
void ensure_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then run with the default policy
}
}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp_waiting(argv);
  // A file size limit (ulimit -f) must fail the write that meets it, with our error and the temporary file
  // removed, rather than kill the process half-way through a checkpoint.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"pgl: Prior-Guided Local self-supervised learning for 3D medical image segmentation"};
  app.set_version_flag("--version", "pgl " + pgl::version());
  app.require_subcommand(1);
  app.fallthrough(false);

  pgl::cli::register_info(app);
  pgl::cli::register_check(app);
#ifdef PGL_HAVE_PHANTOM
  pgl::cli::register_phantom(app);
#endif
#ifdef PGL_HAVE_PLAN
  pgl::cli::register_plan(app);
#endif
#ifdef PGL_HAVE_TRAIN
  pgl::cli::register_pretrain(app);
#endif
#ifdef PGL_HAVE_SEG
  pgl::cli::register_export(app);  // pretraining backbones and packed fine-tuned models
  pgl::cli::register_finetune(app);
  pgl::cli::register_predict(app);
#endif
#ifdef PGL_HAVE_EVAL
  pgl::cli::register_evaluate(app);
#endif
#ifdef PGL_HAVE_REPORT
  pgl::cli::register_report(app);
#endif
#ifdef PGL_HAVE_EXPERIMENT
  pgl::cli::register_experiment(app);
  pgl::cli::register_demo(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const pgl::Error& e) {
    std::fprintf(stderr, "pgl: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "pgl: error: out of memory (%.1f GiB were available at the end); see docs/performance.md "
                 "for what each command needs\n",
                 static_cast<double>(pgl::available_memory_bytes()) / (1024.0 * 1024.0 * 1024.0));
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pgl: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
