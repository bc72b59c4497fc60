#pragma once
// Each subcommand lives in its own file and registers itself on the root CLI11 app.
// The callback runs the command; errors are thrown as pgl::Error and turned into exit status 1 by main.
#include <CLI/CLI.hpp>

namespace pgl::cli {

void register_info(CLI::App& app);
void register_check(CLI::App& app);
void register_phantom(CLI::App& app);
void register_plan(CLI::App& app);
void register_pretrain(CLI::App& app);
void register_export(CLI::App& app);
void register_finetune(CLI::App& app);
void register_predict(CLI::App& app);
void register_evaluate(CLI::App& app);
void register_experiment(CLI::App& app);
void register_report(CLI::App& app);
void register_demo(CLI::App& app);

}  // namespace pgl::cli
