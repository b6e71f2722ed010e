#include "flags.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace nanocaf::apps {

namespace {

bool is_boolean(const std::string& v) { return v == "false" || v == "true"; }

// The --config value, if any, found before the other flags are applied (they must win).
std::string find_config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--config=", 0) == 0)
      return arg.substr(9);
    if (arg == "--config" && i + 1 < argc)
      return argv[i + 1];
  }
  return {};
}

} // namespace

flags::flags(std::string program_summary) : summary_(std::move(program_summary)) {
  add("config", "", "JSON file with flag values, keys as flag names (command-line flags win)");
}

flags& flags::add(const std::string& name, const std::string& default_value,
                  const std::string& help) {
  if (entries_.count(name))
    throw std::logic_error("flag --" + name + " declared twice");
  entries_[name] = {default_value, default_value, help};
  order_.push_back(name);
  return *this;
}

void flags::print_help() const {
  std::cout << summary_ << "\n\nflags (also as keys of the --config file):\n";
  for (auto& name : order_) {
    auto& e = entries_.at(name);
    std::cout << "  --" << std::left << std::setw(20) << name << e.help
              << " (default: " << (e.default_value.empty() ? "\"\"" : e.default_value) << ")\n";
  }
}

bool flags::load_config(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    std::cerr << "cannot read config file " << path << "\n";
    return false;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    std::cerr << "config file " << path << ": " << e.what() << "\n";
    return false;
  }
  if (!doc.is_object()) {
    std::cerr << "config file " << path << ": must hold a JSON object of flag values\n";
    return false;
  }
  for (auto& [key, value] : doc.items()) {
    auto it = entries_.find(key);
    if (it == entries_.end() || key == "config") {
      std::cerr << "config file " << path << ": unknown key \"" << key << "\" (see --help)\n";
      return false;
    }
    if (value.is_string())
      it->second.value = value.get<std::string>();
    else if (value.is_boolean())
      it->second.value = value.get<bool>() ? "true" : "false";
    else if (value.is_number_integer())
      it->second.value = std::to_string(value.get<long long>());
    else if (value.is_number())
      it->second.value = value.dump();
    else {
      std::cerr << "config file " << path << ": \"" << key
                << "\" must be a string, number or boolean\n";
      return false;
    }
  }
  return true;
}

bool flags::parse(int argc, char** argv, int& exit_code) {
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      exit_code = 0;
      return false;
    }
  }
  if (auto path = find_config_path(argc, argv); !path.empty() && !load_config(path))
    return false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      std::cerr << "unexpected argument: " << arg << " (see --help)\n";
      return false;
    }
    std::string name = arg.substr(2);
    std::string value;
    auto eq = name.find('=');
    bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name.erase(eq);
    }
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::cerr << "unknown flag: --" << name << " (see --help)\n";
      return false;
    }
    if (!has_value) {
      if (i + 1 < argc && std::string{argv[i + 1]}.rfind("--", 0) != 0) {
        value = argv[++i];
      } else if (is_boolean(it->second.default_value)) {
        value = "true"; // a bare boolean flag switches it on
      } else {
        std::cerr << "flag --" << name << " needs a value\n";
        return false;
      }
    }
    it->second.value = value;
  }
  // Numbers are checked here, once, so that main never meets a std::stod exception.
  for (auto& [name, e] : entries_) {
    if (e.value.empty() || e.default_value.empty())
      continue;
    bool numeric_default = e.default_value.find_first_not_of("0123456789.") == std::string::npos;
    if (!numeric_default)
      continue;
    try {
      std::size_t used = 0;
      std::stod(e.value, &used);
      if (used != e.value.size())
        throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      std::cerr << "--" << name << " must be a number, not \"" << e.value << "\"\n";
      return false;
    }
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
