// `pgl report` end to end on the fixture experiment (skipped when the pgl binary has not been built).
#include <gtest/gtest.h>

#include <filesystem>

#include "fixture.h"

namespace pgl::report {
namespace {
namespace fs = std::filesystem;

TEST(ReportCli, WritesThePageAndTheSummary) {
  if (!fs::exists(pgl::test::pgl_binary())) GTEST_SKIP() << "skipped: the pgl binary is not built";
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  const auto r =
      pgl::test::run_pgl("report '" + dir.path() + "' --out '" + (dir / "r.html") + "' --overlay-cases 1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "r.html"));
  EXPECT_TRUE(fs::exists(dir / "summary.md"));
  EXPECT_TRUE(fs::exists(dir / "plots/pretrain_loss.png"));
  EXPECT_NE(r.output.find("r.html"), std::string::npos) << r.output;
}

TEST(ReportCli, BadFolderIsAnError) {
  if (!fs::exists(pgl::test::pgl_binary())) GTEST_SKIP() << "skipped: the pgl binary is not built";
  pgl::test::TempDir dir;
  auto r = pgl::test::run_pgl("report '" + (dir / "absent") + "'");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("absent"), std::string::npos) << r.output;
  r = pgl::test::run_pgl("report '" + dir.path() + "'");  // a folder without experiment.json
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("experiment.json"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pgl::report
