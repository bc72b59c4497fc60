// write_summary and write_report on the fixture experiment: files, numbers, a self-contained page.
#include "pgl/report/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "fixture.h"
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/report/aggregate.h"
#include "pgl/report/figures.h"

namespace pgl::report {
namespace {
namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Summary, WritesJsonMarkdownAndPlots) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  const SummaryFiles files = write_summary(dir.path());
  EXPECT_EQ(files.plots.size(), 6u);
  for (const char* name : {"dice_vs_fraction", "pretrain_loss", "finetune_validation"}) {
    const std::string png = read_text(dir / (std::string("plots/") + name + ".png"));
    const std::string svg = read_text(dir / (std::string("plots/") + name + ".svg"));
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << name;
  }
  const nlohmann::json j = read_json_file(dir / "summary.json");
  EXPECT_EQ(j["methods"], nlohmann::json(test::kMethods));
  ASSERT_EQ(j["results"].size(), 6u);
  EXPECT_EQ(j["results"][0]["method"], "random");
  EXPECT_NEAR(j["results"][0]["dice"]["mean"].get<double>(), 0.735, 1e-12);
  EXPECT_EQ(j["results"][0]["dice"]["n_seeds"], 2);
  EXPECT_TRUE(j["results"][0]["per_class_dice"].contains("liver"));
  bool found = false;
  for (const auto& g : j["gain_over_baseline"])
    if (g["method"] == "pgl" && g["fraction"] == 0.1) {
      found = true;
      EXPECT_NEAR(g["mean_diff"].get<double>(), 0.025, 1e-12);
      EXPECT_NEAR(g["p_t"].get<double>(), 0.030466291662170963, 1e-9);
      EXPECT_EQ(g["n_cases"], 4);
      EXPECT_EQ(g["ci95"].size(), 2u);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(j["versus_pgl"].size(), 2u);
  EXPECT_TRUE(j["missing_cells"].empty());

  const std::string md = read_text(dir / "summary.md");
  for (const std::string& m : test::kMethods) EXPECT_NE(md.find("| " + m + " |"), std::string::npos) << m;
  EXPECT_NE(md.find("73.50 ± 0.71"), std::string::npos);  // random at 10%, in points
  EXPECT_NE(md.find("+2.50"), std::string::npos);         // pgl's gain at both fractions
  EXPECT_NE(md.find("0.030"), std::string::npos);         // its p-value
}

TEST(Summary, TargetSpreadPanelHasTheMethodsThatLoggedIt) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  const ExperimentSpec spec = read_experiment(dir.path());
  const ExperimentStats stats = compute_statistics(spec, read_results_csv(dir / "results.csv"));
  const Chart chart = target_spread_chart(spec, stats);
  ASSERT_EQ(chart.series.size(), 1u);  // random has no pretraining, BYOL's fixture logs lack the field
  EXPECT_EQ(chart.series[0].label, "pgl");
  ASSERT_EQ(chart.series[0].y.size(), 40u);
  EXPECT_NEAR(chart.series[0].y.front(), 0.7, 1e-9);  // mean of the two seeds
  // The panel follows the per-method loss panels (byol, pgl).
  const Figure fig = pretrain_loss_figure(spec, stats);
  ASSERT_EQ(fig.charts.size(), 3u);
  EXPECT_EQ(fig.charts.back().title, chart.title);
}

TEST(Report, SelfContainedPageMentionsEveryMethod) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path(), "byol-f0.1-s1");
  const ReportResult r = write_report(dir.path(), dir / "out/report.html");
  const std::string html = read_text(dir / "out/report.html");
  EXPECT_EQ(r.bytes, html.size());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  for (const std::string& m : test::kMethods) EXPECT_NE(html.find(">" + m + "<"), std::string::npos) << m;
  // Every src= is a data URI; nothing is fetched from elsewhere.
  const std::regex src(R"(src\s*=\s*["']([^"']{0,12}))");
  int images = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), src); it != std::sregex_iterator();
       ++it, ++images)
    EXPECT_EQ((*it)[1].str().rfind("data:", 0), 0u) << (*it)[1].str();
  EXPECT_EQ(images, 3 + 3);  // three plots, three overlays
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // The missing cell is reported at the top, and the summary files were refreshed too.
  EXPECT_NE(html.find("byol-f0.1-s1"), std::string::npos);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("byol-f0.1-s1"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "summary.json"));
  EXPECT_TRUE(fs::exists(dir / "plots/dice_vs_fraction.svg"));
  EXPECT_NE(html.find("future_field"), std::string::npos);  // unknown settings are shown, not dropped
}

TEST(Report, MissingPredictionsAndImagesStillGiveAPage) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  fs::remove_all(prediction_dir(dir.path(), "byol", 1.0, 0));
  fs::remove(dir / "images/c1.nii.gz");
  ReportOptions o;
  o.write_summary = false;
  const ReportResult r = write_report(dir.path(), dir / "report.html", o);
  const std::string html = read_text(dir / "report.html");
  EXPECT_FALSE(fs::exists(dir / "summary.json"));
  int overlays = 0;
  for (size_t at = html.find("alt=\"overlay"); at != std::string::npos;
       at = html.find("alt=\"overlay", at + 1))
    ++overlays;
  EXPECT_EQ(overlays, 3);  // c1 is skipped (unreadable image), c2..c4 shown
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("c1"), std::string::npos);
}

TEST(Report, NoResultsIsAnErrorNamingTheFile) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  fs::remove(dir / "results.csv");
  try {
    write_report(dir.path(), dir / "report.html");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("results.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace pgl::report
