// The flags of the bundled programs that are not servers (nanocaf-cli, nanocaf-bench, the
// test node), on CLI11 as nanocaf::server's are, with the same JSON --config file.
#include "flags.hpp"

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "json_config.hpp"

namespace nanocaf::apps {

namespace {

bool is_boolean(const std::string& v) { return v == "false" || v == "true"; }

bool is_number(const std::string& v) {
  return !v.empty() && v.find_first_not_of("0123456789.") == std::string::npos;
}

} // namespace

flags::flags(std::string program_summary) : app_(std::make_unique<CLI::App>(std::move(program_summary))) {
  app_->config_formatter(std::make_shared<server_detail::json_config>());
  app_->set_config("--config", "", "JSON file with flag values, keys as flag names (flags on the command line win)");
  app_->allow_config_extras(false);
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); // the last wins
  app_->get_formatter()->column_width(30);
}

flags::~flags() = default;

flags& flags::add(const std::string& name, const std::string& default_value,
                  const std::string& help) {
  if (entries_.count(name))
    throw std::logic_error("flag --" + name + " declared twice");
  auto& e = entries_[name] = {default_value, default_value, help};
  auto* opt = app_->add_option("--" + name, e.value, help)->capture_default_str();
  // Checked here, once, so that main never meets a std::stod exception.
  if (is_number(default_value))
    opt->check(CLI::Number);
  if (is_boolean(default_value))
    opt->check(CLI::IsMember({"true", "false", "1", "0", "yes", "no", "on", "off"}));
  return *this;
}

bool flags::parse(int argc, char** argv, int& exit_code) {
  // A boolean flag may stand alone (`--quiet`) or take a value (`--quiet false`).
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool next_is_value = i + 1 < argc && std::string{argv[i + 1]}.rfind("--", 0) != 0;
    if (arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos && !next_is_value)
      if (auto e = entries_.find(arg.substr(2)); e != entries_.end() && is_boolean(e->second.default_value))
        arg += "=true";
    args.push_back(std::move(arg));
  }
  std::reverse(args.begin(), args.end()); // CLI11 takes them last first
  app_->name(argc > 0 ? argv[0] : "program");
  try {
    app_->parse(args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app_->help();
    exit_code = 0;
    return false;
  } catch (const CLI::ParseError& e) {
    exit_code = app_->exit(e) == 0 ? 0 : 2;
    return false;
  }
  exit_code = 0;
  return true;
}

const std::string& flags::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw std::logic_error("undeclared flag " + name);
  return it->second.value;
}

double flags::number(const std::string& name) const { return std::stod(get(name)); }

bool flags::boolean(const std::string& name) const {
  auto& v = get(name);
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

} // namespace nanocaf::apps
