// write_summary and write_report on the fixture experiment: files, numbers, a self-contained page.
#include "pgl/report/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

using pgl::test::read_text;

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
      // Tested over the two seeds (per-seed differences 0.025 and 0.035, t = 6, df = 1).
      EXPECT_NEAR(g["mean_diff"].get<double>(), 0.03, 1e-12);
      EXPECT_NEAR(g["p_t"].get<double>(), 1 - 2 * std::atan(6.0) / M_PI, 1e-9);
      EXPECT_EQ(g["n_seeds"], 2);
      EXPECT_EQ(g["n_cases"], 4);
      EXPECT_EQ(g["ci95"].size(), 2u);
      EXPECT_EQ(g["bootstrap_resamples"], kBootstrapResamples);
      EXPECT_EQ(g["verdict"], "not significant");
      EXPECT_EQ(g["significant"], false);
      ASSERT_EQ(g["per_seed"].size(), 2u);  // the per-seed points
      EXPECT_EQ(g["per_seed"][1]["seed"], 1);
      EXPECT_NEAR(g["per_seed"][0]["mean_diff"].get<double>(), 0.025, 1e-12);
      EXPECT_NEAR(g["per_seed"][1]["mean_diff"].get<double>(), 0.035, 1e-12);
      EXPECT_NEAR(g["secondary_over_cases"]["p_t"].get<double>(), 0.018782784176974765, 1e-9);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(j["versus_pgl"].size(), 2u);
  EXPECT_TRUE(j["missing_cells"].empty());
  EXPECT_EQ(j["results"][0]["dice"]["seed_means"].size(), 2u);

  const std::string md = read_text(dir / "summary.md");
  for (const std::string& m : test::kMethods) EXPECT_NE(md.find("| " + m + " |"), std::string::npos) << m;
  EXPECT_NE(md.find("73.50 ± 0.71"), std::string::npos);        // random at 10%, in points
  EXPECT_NE(md.find("| +3.00 |"), std::string::npos);           // pgl's gain at both fractions
  EXPECT_NE(md.find("s0 +2.50, s1 +3.50"), std::string::npos);  // and its per-seed differences
  EXPECT_NE(md.find("| 0.105 |"), std::string::npos);           // its p-value over seeds
  EXPECT_NE(md.find("| not significant |"), std::string::npos);
  EXPECT_NE(md.find("**higher (p < 0.05)**"), std::string::npos);  // byol at 100%: +0.50 in both seeds
  EXPECT_EQ(md.find("| 1 seed: not tested |"), std::string::npos);
  EXPECT_EQ(md.find("] cases only"), std::string::npos);  // two seeds: the intervals span seeds and cases

  // The CSV holds both comparison tables with the same cells.
  EXPECT_EQ(files.comparisons_csv, dir / "comparisons.csv");
  const std::string csv = read_text(dir / "comparisons.csv");
  EXPECT_EQ(csv.rfind("method,vs,fraction,seeds,", 0), 0u) << csv;
  EXPECT_NE(csv.find("pgl,random,10%,2,+3.00,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",not significant,\"s0 +2.50, s1 +3.50\",4\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("pgl,byol,10%,2,+2.50,"), std::string::npos) << csv;
  size_t lines = 0;
  for (char c : csv) lines += c == '\n';
  EXPECT_EQ(lines, 1u + 4 + 2);
}

TEST(Summary, OneSeedIsNotTestedInAnyOutput) {
  // Seed 1 of every cell left out: every comparison rests on one seed.
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  ExperimentData data = load_experiment(dir.path());
  data.rows.erase(
      std::remove_if(data.rows.begin(), data.rows.end(), [](const ResultRow& r) { return r.seed == 1; }),
      data.rows.end());
  data.spec.seeds = {0};
  data.stats = compute_statistics(data.spec, data.rows);
  write_summary(data);

  const nlohmann::json j = read_json_file(dir / "summary.json");
  ASSERT_EQ(j["gain_over_baseline"].size(), 4u);
  for (const auto* list : {&j["gain_over_baseline"], &j["versus_pgl"]})
    for (const auto& g : *list) {
      EXPECT_EQ(g["verdict"], "1 seed: not tested") << g;
      EXPECT_EQ(g["tested"], false);
      EXPECT_EQ(g["significant"], false);
      EXPECT_TRUE(g["p_t"].is_null()) << g;
      EXPECT_TRUE(g["p_wilcoxon"].is_null()) << g;
      EXPECT_EQ(g["per_seed"].size(), 1u);
    }
  const std::string md = read_text(dir / "summary.md");
  const std::string csv = read_text(dir / "comparisons.csv");
  const std::string html = report_html(data, ReportOptions{0, 240, false});
  for (const std::string* text : {&md, &csv, &html}) {
    size_t verdicts = 0;
    for (size_t at = text->find("1 seed: not tested"); at != std::string::npos;
         at = text->find("1 seed: not tested", at + 1))
      ++verdicts;
    EXPECT_GE(verdicts, 6u);  // 4 gains, 2 versus (the notes may say it again)
    EXPECT_EQ(text->find("(p < 0.05)"), std::string::npos);
    EXPECT_EQ(text->find("not significant"), std::string::npos);
  }
  // pgl at 10%, seed 0 only: +2.50, no p-value in its row.
  EXPECT_NE(md.find("| pgl | random | 10% | 1 | +2.50 | "), std::string::npos) << md;
  EXPECT_NE(md.find("] cases only | – | – | 1 seed: not tested |"), std::string::npos) << md;
  EXPECT_NE(md.find(" | – | – | 1 seed: not tested | s0 +2.50 | 4 |"), std::string::npos) << md;
  EXPECT_NE(csv.find(",–,–,1 seed: not tested,s0 +2.50,4\n"), std::string::npos) << csv;
  EXPECT_NE(html.find("<td>1 seed: not tested</td>"), std::string::npos);
  EXPECT_EQ(html.find("<b>1 seed"), std::string::npos);
}

TEST(Summary, DiceFigureDrawsEverySeedBesideTheMean) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  const ExperimentStats stats =
      compute_statistics(read_experiment(dir.path()), read_results_csv(dir / "results.csv"));
  const Figure fig = dice_vs_fraction_figure(stats);
  ASSERT_EQ(fig.charts.size(), 2u);
  // Dice panel: per method a labelled mean series and an unlabelled series of the seeds' cell scores.
  const Chart& dice = fig.charts[0];
  ASSERT_EQ(dice.series.size(), 6u);
  const Series& mean = dice.series[0];
  const Series& seeds = dice.series[1];
  EXPECT_EQ(mean.label, "random");
  EXPECT_EQ(seeds.label, "");
  EXPECT_EQ(seeds.line_width, 0);
  EXPECT_NE(seeds.marker, Marker::None);
  ASSERT_EQ(seeds.y.size(), 4u);  // 2 fractions x 2 seeds
  EXPECT_NEAR(seeds.y[0], 73, 1e-9);
  EXPECT_NEAR(seeds.y[1], 74, 1e-9);
  EXPECT_NEAR(mean.y[0], 73.5, 1e-9);
  EXPECT_GT(seeds.x[0], mean.x[0]);  // beside the mean, not on it
  EXPECT_LT(seeds.x[0], 0.1 * 1.1);
  // Gain panel: zero line, then byol and pgl with their seeds; pgl's interval is the bootstrap's, asymmetric.
  const Chart& gain = fig.charts[1];
  ASSERT_EQ(gain.series.size(), 5u);
  const Series& pgl = gain.series[3];
  const Series& pgl_seeds = gain.series[4];
  EXPECT_EQ(pgl.label, "pgl");
  ASSERT_EQ(pgl_seeds.y.size(), 4u);
  EXPECT_NEAR(pgl_seeds.y[0], 2.5, 1e-9);
  EXPECT_NEAR(pgl_seeds.y[1], 3.5, 1e-9);
  const Comparison& c = stats.gains[1];
  ASSERT_EQ(c.method, "pgl");
  EXPECT_NEAR(pgl.y[0] + pgl.error[0], 100 * c.interval.ci_high, 1e-9);
  EXPECT_NEAR(pgl.y[0] - pgl.error_below[0], 100 * c.interval.ci_low, 1e-9);
  // The SVG has a marker for every seed point: more paths than without them.
  Figure without = fig;
  for (Chart& chart : without.charts)
    chart.series.erase(std::remove_if(chart.series.begin(), chart.series.end(),
                                      [](const Series& s) { return s.label.empty() && s.line_width == 0; }),
                       chart.series.end());
  EXPECT_GT(render_svg(fig).size(), render_svg(without).size());
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
  // The gain table lists each seed's difference and the verdict over seeds.
  EXPECT_NE(html.find("<td>s0 +2.50, s1 +3.50</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>not significant</td>"), std::string::npos);
  EXPECT_NE(html.find("hierarchical percentile bootstrap"), std::string::npos);
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
