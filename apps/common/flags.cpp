#include "flags.hpp"

#include <iomanip>
#include <iostream>
#include <stdexcept>

namespace nanocaf::apps {

flags& flags::add(const std::string& name, const std::string& default_value,
                  const std::string& help) {
  entries_[name] = {default_value, default_value, help};
  order_.push_back(name);
  return *this;
}

bool flags::parse(int argc, char** argv, int& exit_code) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << summary_ << "\n\nflags:\n";
      for (auto& name : order_) {
        auto& e = entries_[name];
        std::cout << "  --" << std::left << std::setw(20) << name << e.help
                  << " (default: " << (e.default_value.empty() ? "\"\"" : e.default_value)
                  << ")\n";
      }
      exit_code = 0;
      return false;
    }
    if (arg.rfind("--", 0) != 0) {
      std::cerr << "unexpected argument: " << arg << " (see --help)\n";
      exit_code = 2;
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
      exit_code = 2;
      return false;
    }
    if (!has_value) {
      if (i + 1 < argc && std::string{argv[i + 1]}.rfind("--", 0) != 0) {
        value = argv[++i];
      } else if (it->second.default_value == "false" || it->second.default_value == "true") {
        value = "true"; // a bare boolean flag switches it on
      } else {
        std::cerr << "flag --" << name << " needs a value\n";
        exit_code = 2;
        return false;
      }
    }
    it->second.value = value;
  }
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
