#include "pgl/experiment/runner.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/file_lock.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/data/cache.h"
#include "pgl/data/dataset.h"
#include "pgl/eval/metrics.h"
#include "pgl/io/volume_io.h"
#include "pgl/plan/backbone.h"
#include "pgl/report/experiment.h"
#include "pgl/report/summary.h"
#include "pgl/seg/case_split.h"
#include "pgl/seg/finetune.h"
#include "pgl/seg/predictor.h"
#include "pgl/train/device.h"
#include "pgl/train/distributed.h"
#include "pgl/train/pretrain.h"
#include "pgl/train/rank_group.h"
#include "pgl/train/runtime.h"

namespace pgl::experiment {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
using report::cell_name;
using report::pretrain_run_name;

struct Paths {
  fs::path root;
  std::string plan() const { return (root / "plan.json").string(); }
  std::string pretrain(const std::string& m, int s) const {
    return (root / "pretrain" / pretrain_run_name(m, s)).string();
  }
  std::string finetune(const std::string& cell) const { return (root / "finetune" / cell).string(); }
  // Where a cell's test predictions go and its rows of results.csv, written by the rank that ran it
  // (results.csv is assembled from them); for the internal test cases (test_data false) or --test-data.
  std::string predictions(const std::string& cell, bool test_data = false) const {
    return (root / (test_data ? "predictions-test-data" : "predictions") / cell).string();
  }
  std::string rows(const std::string& cell, bool test_data = false) const {
    return (root / "cells" / (cell + (test_data ? ".test-data.csv" : ".csv"))).string();
  }
  std::string results(bool test_data) const {
    return (root / (test_data ? "results_test_data.csv" : "results.csv")).string();
  }
};

bool finished(const std::string& run) { return fs::exists(fs::path(run) / "checkpoints" / "final.pt"); }
bool started(const std::string& run) { return fs::exists(fs::path(run) / "config.json"); }

std::vector<Case> test_cases(const Dataset& d, const ExperimentConfig& c) {
  if (!c.test_split.empty()) return d.split(c.test_split);
  // A fixed seed: the same test cases for every experiment seed and every rerun.
  auto order = seg::seeded_permutation(d.cases.size(), 0x7e57ull);
  auto n = std::max<size_t>(
      1, static_cast<size_t>(std::llround(c.test_fraction * static_cast<double>(d.cases.size()))));
  std::vector<Case> out;
  for (size_t k = 0; k < n; ++k) out.push_back(d.cases[order[k]]);
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  return out;
}

// The settings every run of the experiment shares, pretraining or fine-tuning.
// Every run of the experiment, pretraining or fine-tuning, uses the experiment's one plan (OUT/plan.json).
template <typename RunConfig>
void set_common_fields(const ExperimentConfig& c, const Paths& paths, const std::string& out, int64_t steps,
                       double time_budget, int seed, RunConfig* run) {
  run->out = out;
  run->preset = c.preset;
  run->base = c.base;
  run->steps = steps;
  run->time_budget = time_budget;
  run->seed = static_cast<uint64_t>(seed);
  run->threads = c.threads;
  run->cache = c.cache;
  run->precision = c.precision;
  run->device = c.device;
  run->plan_file = paths.plan();
  run->checkpoint_every = std::max<int64_t>(50, steps / 10);
}

// The plan of the labelled data without its test cases (labels included: CT normalisation uses their
// foreground), written once; a rerun keeps it.
void write_experiment_plan(const ExperimentConfig& c, const Dataset& dataset,
                           const std::vector<std::string>& test_ids, const Paths& paths) {
  if (fs::exists(paths.plan())) return;
  std::vector<Case> cases;
  for (const Case& k : dataset.cases)
    if (!is_excluded(k, test_ids)) cases.push_back(k);
  auto request = plan::network_request(c.preset, c.base, 0, {}, 0, c.plan.min_coverage);
  const std::string cache = c.cache.empty() ? default_cache_root() : c.cache;
  plan::TrainingPlan p = plan::plan_run("", {dataset}, cases, true, c.plan, request, cache, c.threads);
  write_text_atomically(paths.plan(), p.to_json().dump(2) + "\n");
  std::printf("plan (%s):\n%s", paths.plan().c_str(), p.describe().c_str());
}

void pretrain(const ExperimentConfig& c, const std::string& method, int seed,
              const std::vector<std::string>& test_images, const Paths& paths) {
  std::string run = paths.pretrain(method, seed);
  if (finished(run)) return;
  auto [name, priors] = pretrain_method_and_priors(method);
  train::PretrainConfig p;
  p.data = {c.data};
  p.data.insert(p.data.end(), c.pretrain_data.begin(), c.pretrain_data.end());
  p.exclude = test_images;  // by path: --pretrain-data may reuse the test cases' ids for other images
  set_common_fields(c, paths, run, c.pretrain_steps, c.pretrain_time_budget, seed, &p);
  p.method = name;
  p.priors = priors;
  p.lr = c.pretrain_lr;
  std::printf("\n== pretrain %s (seed %d): %s -> %s\n", method.c_str(), seed,
              c.pretrain_time_budget > 0 ? fmt::format("{:g} min", c.pretrain_time_budget).c_str()
                                         : fmt::format("{} steps", c.pretrain_steps).c_str(),
              run.c_str());
  train::run_pretraining(p, started(run), train::Ranks::ThisProcessOnly);
}

void finetune(const ExperimentConfig& c, const std::string& method, double fraction, int seed,
              const std::vector<std::string>& test_ids, const Paths& paths) {
  std::string cell = cell_name(method, fraction, seed);
  std::string run = paths.finetune(cell);
  if (finished(run)) return;
  seg::FinetuneConfig f;
  f.data = c.data;
  f.exclude = test_ids;
  f.init = method == "random" ? "random" : paths.pretrain(method, seed);
  set_common_fields(c, paths, run, c.finetune_steps, c.finetune_time_budget, seed, &f);
  f.label_fraction = fraction;
  f.val_fraction = 0.2;
  f.val_every = c.val_every > 0              ? c.val_every
                : c.finetune_time_budget > 0 ? f.val_every
                                             : std::max<int64_t>(1, c.finetune_steps / 4);
  f.val_max_cases = c.val_max_cases;
  f.until_plateau = c.finetune_until_plateau;
  f.optimizer = c.optimizer;
  f.lr = c.finetune_lr;
  f.warmup_steps = c.warmup_steps;
  f.transfer = c.transfer;
  std::printf("\n== finetune %s: %s -> %s\n", cell.c_str(),
              c.finetune_time_budget > 0 ? fmt::format("{:g} min", c.finetune_time_budget).c_str()
                                         : fmt::format("{} steps", c.finetune_steps).c_str(),
              run.c_str());
  seg::run_finetuning(f, started(run), train::Ranks::ThisProcessOnly);
}

// Predicts every test case of a cell into `folder` (keeping existing predictions) and returns its metric
// rows.
std::vector<json> predict_and_evaluate(const ExperimentConfig& c, const std::string& cell,
                                       const std::vector<Case>& tests,
                                       const std::map<int, std::string>& labels, const Paths& paths,
                                       const std::string& folder) {
  seg::Predictor predictor = seg::Predictor::load(paths.finetune(cell), "", c.device);
  std::vector<int> classes;
  for (const auto& [id, name] : labels)
    if (id != 0) classes.push_back(id);
  std::vector<json> rows;
  Progress progress("predict " + cell, static_cast<int64_t>(tests.size()), "case");
  int64_t done = 0;
  for (const auto& t : tests) {
    std::string out = (fs::path(folder) / (t.id + ".nii.gz")).string();
    LabelMap prediction = fs::exists(out) ? read_label_map(out) : LabelMap();
    if (!fs::exists(out)) {
      prediction = predictor.predict(read_volume(t.image), c.tta);
      write_label_map(prediction, out);
    }
    LabelMap reference = read_label_map(t.label);
    auto metrics = eval::evaluate_case(prediction, reference, classes);
    for (const auto& m : metrics)
      rows.push_back({{"case", t.id},
                      {"class", m.label},
                      {"class_name", labels.at(m.label)},
                      {"dice", m.dice},
                      {"hd95_mm", m.hd95},
                      {"nsd", m.nsd}});
    progress.update(++done);
  }
  progress.finish();
  return rows;
}

// The cases of --test-data: labelled like the experiment's data, and none of its images used for training.
std::vector<Case> external_test_cases(const ExperimentConfig& c, const Dataset& dataset) {
  if (c.test_data.empty()) return {};
  Dataset t = open_dataset(c.test_data);
  if (!t.labeled()) throw Error(c.test_data, "--test-data needs a labelled data set");
  if (t.labels != dataset.labels)
    throw Error(t.root + "/dataset.json",
                fmt::format("its labels differ from those of {} (the test data must name the same classes "
                            "with the same ids)",
                            c.data));
  std::set<std::string> training;  // every image pretraining or fine-tuning may read
  auto add = [&](const Dataset& d) {
    for (const Case& k : d.cases) training.insert(fs::weakly_canonical(k.image).string());
  };
  add(dataset);
  for (const std::string& extra : c.pretrain_data) add(open_dataset(extra));
  for (const Case& k : t.cases)
    if (training.count(fs::weakly_canonical(k.image).string()))
      throw Error(k.image,
                  "is in --test-data and in the training data; the test data set must be kept apart");
  return t.cases;
}

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

}  // namespace

void run_experiment(const ExperimentConfig& c) {
  c.validate();
  train::configure_threads(c.threads);
  train::check_precision(c.precision, train::resolve_device(c.device).is_cuda());  // before any work
  // Under torchrun or SLURM the ranks share out whole runs (below), each run in one process.
  const train::LaunchEnvironment launch = train::launch_environment();
  std::unique_ptr<train::RankGroup> group = train::make_rank_group(launch, c.dist_timeout);
  const int rank = group->rank(), ranks = group->world_size();
  Dataset dataset = open_dataset(c.data);
  if (!dataset.labeled()) throw Error(c.data, "the experiment needs a labelled data set");
  std::vector<Case> tests = test_cases(dataset, c);
  std::vector<std::string> test_ids, test_image_paths;
  json test_images = json::object(), test_labels = json::object();
  for (const auto& t : tests) {
    test_ids.push_back(t.id);
    test_image_paths.push_back(t.image);
    test_images[t.id] = t.image;
    test_labels[t.id] = t.label;
  }
  const std::vector<Case> external = external_test_cases(c, dataset);
  Paths paths{fs::path(c.out)};  // the data checked: only now anything is written
  fs::create_directories(paths.root / "cells");
  if (group->writes()) {  // a killed run's half-written results
    remove_stale_temporaries(paths.root.string());
    remove_stale_temporaries((paths.root / "cells").string());
  }
  json external_ids = json::array();
  for (const auto& t : external) external_ids.push_back(t.id);
  std::map<int, std::string> labels = dataset.labels;
  json label_json = json::object();
  for (const auto& [id, name] : labels)
    if (id != 0) label_json[std::to_string(id)] = name;
  std::vector<int> seeds;
  for (int s = 0; s < c.seeds; ++s) seeds.push_back(s);

  // A rerun must describe the same experiment; only execution settings may change, and the grid may grow
  // or shrink (methods, fractions, seeds): cells already run are reused, results.csv holds the grid asked
  // for.
  json settings = c.to_json();
  std::string settings_path = (paths.root / "experiment.json").string();
  if (fs::exists(settings_path)) {
    // Through the struct, so that a field added since the folder was written takes its default.
    json stored = ExperimentConfig::from_json(read_json_file(settings_path).value("config", json::object()),
                                              settings_path)
                      .to_json();
    for (const char* key :
         {"threads", "cache", "out", "methods", "label_fractions", "seeds", "device", "dist_timeout"}) {
      stored.erase(key);
      settings.erase(key);
    }
    if (stored != settings)
      throw Error(settings_path,
                  "an experiment with other settings exists in this folder; use another --out");
    settings = c.to_json();
  }
  json description = {{"config", settings},
                      {"data", dataset.root},
                      {"dataset_name", dataset.name},
                      {"test_cases", test_ids},
                      {"test_images", test_images},
                      {"test_labels", test_labels},
                      {"methods", c.methods},
                      {"label_fractions", c.label_fractions},
                      {"seeds", seeds},
                      {"labels", label_json},
                      {"preset", c.preset},
                      {"base", c.base},
                      {"test_data", c.test_data},
                      {"test_data_cases", external_ids},
                      {"pretrain_steps", c.pretrain_steps},
                      {"finetune_steps", c.finetune_steps},
                      {"pgl_version", version()}};
  if (group->writes()) {
    write_text_atomically(settings_path, description.dump(2) + "\n");
    std::printf("experiment %s: %zu test cases, methods %s, fractions %s, %d seed(s)\n", c.out.c_str(),
                tests.size(), fmt::format("{}", fmt::join(c.methods, ",")).c_str(),
                fmt::format("{}", fmt::join(c.label_fractions, ",")).c_str(), c.seeds);
    write_experiment_plan(c, dataset, test_ids, paths);  // before any run: they all use it
  }
  group->barrier();

  struct Cell {
    std::string method;
    double fraction;
    int seed;
    std::string name;
  };
  std::vector<Cell> cells;  // in table order
  for (double fraction : c.label_fractions)
    for (int seed : seeds)
      for (const auto& m : c.methods) cells.push_back({m, fraction, seed, cell_name(m, fraction, seed)});
  // The unit of work: one method and seed, its pretraining and then its fine-tuning cells, which need no
  // other rank's run. Rank r takes units r, r + N, r + 2N, ... (seeds outer, as the tables).
  struct Unit {
    std::string method;
    int seed;
  };
  std::vector<Unit> units;  // this rank's
  size_t unit_index = 0;
  for (int seed : seeds)
    for (const auto& m : c.methods)
      if (unit_index++ % static_cast<size_t>(ranks) == static_cast<size_t>(rank)) units.push_back({m, seed});
  if (ranks > 1) {
    std::string mine;
    for (const Unit& u : units)
      mine += fmt::format("{}{} seed {}", mine.empty() ? "" : ", ", u.method, u.seed);
    std::printf("rank %d of %d (%s): %s\n", rank, ranks, launch.launcher.c_str(),
                mine.empty() ? "no runs (more ranks than methods x seeds)" : mine.c_str());
  }

  std::set<std::string> evaluated;  // by this process
  auto evaluate = [&](const Cell& x) {
    for (bool test_data : {false, true}) {
      if (test_data && external.empty()) break;
      std::string lines;
      for (const auto& r : predict_and_evaluate(c, x.name, test_data ? external : tests, labels, paths,
                                                paths.predictions(x.name, test_data)))
        lines += fmt::format("{},{},{},{},{},\"{}\",{},{},{}\n", x.method, report::fraction_tag(x.fraction),
                             x.seed, r["case"].get<std::string>(), r["class"].get<int>(),
                             r["class_name"].get<std::string>(), number(r["dice"].get<double>()),
                             number(r["hd95_mm"].get<double>()), number(r["nsd"].get<double>()));
      write_text_atomically(paths.rows(x.name, test_data), lines);
    }
    evaluated.insert(x.name);
  };
  // results.csv and the summary from every cell evaluated so far, whichever rank ran it. The ranks write
  // in turn: the last to finish sees every cell.
  auto write_tables = [&] {
    FileLock lock((paths.root / "cells" / ".lock").string());
    bool any = false;
    for (bool test_data : {false, true}) {
      if (test_data && external.empty()) break;
      std::string csv = "method,fraction,seed,case,class,class_name,dice,hd95_mm,nsd\n";
      bool rows = false;
      for (const auto& x : cells) {
        const std::string part = paths.rows(x.name, test_data);
        if (!fs::exists(part)) continue;
        std::ifstream in(part);
        if (!in) throw Error(part, "cannot read this cell's rows");
        csv += std::string(std::istreambuf_iterator<char>(in), {});
        rows = true;
      }
      if (rows) write_text_atomically(paths.results(test_data), csv);
      any = any || rows;
    }
    if (any) report::write_summary(c.out);
  };
  auto mine = [&](const Cell& x) {
    for (const Unit& u : units)
      if (u.method == x.method && u.seed == x.seed) return true;
    return false;
  };

  // Finished cells first (their predictions are kept, their metrics computed anew), so the tables hold
  // them all while the rest run; then the tables again after every new cell, so that an interrupted
  // experiment has its tables so far.
  for (const auto& x : cells)
    if (mine(x) && finished(paths.finetune(x.name))) evaluate(x);
  write_tables();
  for (const Unit& u : units) {
    if (u.method != "random") pretrain(c, u.method, u.seed, test_image_paths, paths);
    for (const auto& x : cells) {
      if (x.method != u.method || x.seed != u.seed || evaluated.count(x.name)) continue;
      finetune(c, x.method, x.fraction, x.seed, test_ids, paths);
      evaluate(x);
      write_tables();
    }
  }
  if (group->writes())
    std::printf("\nresults: %s/results.csv, summary: %s/summary.md\n", c.out.c_str(), c.out.c_str());
}

}  // namespace pgl::experiment
