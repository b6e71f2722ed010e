// Command-line flags for the apps: --name=value or --name value, --help lists them with
// their defaults. Every app also takes --config FILE: a JSON object whose keys are flag names
// ({"heartbeat": 10, "ws": "0.0.0.0:3250"}); flags given on the command line win over it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nanocaf::apps {

class flags {
public:
  explicit flags(std::string program_summary);

  /// Declares a flag with its default and help text.
  flags& add(const std::string& name, const std::string& default_value, const std::string& help);

  /// Parses argv (and the --config file). Returns false after printing help (--help) or an
  /// error (unknown flag or key, missing value, unreadable config); `exit_code` is then what
  /// main should return.
  bool parse(int argc, char** argv, int& exit_code);

  const std::string& get(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;

private:
  struct entry {
    std::string value;
    std::string default_value;
    std::string help;
  };
  bool load_config(const std::string& path);
  void print_help() const;

  std::string summary_;
  std::map<std::string, entry> entries_;
  std::vector<std::string> order_;
};

} // namespace nanocaf::apps
