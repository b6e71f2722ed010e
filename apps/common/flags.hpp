// Command-line flags for the apps: --name=value or --name value, --help lists them with
// their defaults. Small on purpose; every app uses the same rules.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nanocaf::apps {

class flags {
public:
  explicit flags(std::string program_summary) : summary_(std::move(program_summary)) {}

  /// Declares a flag with its default and help text.
  flags& add(const std::string& name, const std::string& default_value, const std::string& help);

  /// Parses argv. Returns false after printing help (--help) or an error (unknown flag,
  /// missing value); `exit_code` is then what main should return.
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
  std::string summary_;
  std::map<std::string, entry> entries_;
  std::vector<std::string> order_;
};

} // namespace nanocaf::apps
