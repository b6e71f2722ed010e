// Command-line flags for the bundled programs that are not servers (nanocaf-cli,
// nanocaf-bench, the test node): --name=value or --name value, --help lists them with their
// defaults; --config FILE takes a JSON object whose keys are flag names, and flags given on the
// command line win over it. On CLI11, as nanocaf::server's flags (apps/server).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace nanocaf::apps {

class flags {
public:
  explicit flags(std::string program_summary);
  ~flags();
  flags(const flags&) = delete;
  flags& operator=(const flags&) = delete;

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
  std::map<std::string, entry> entries_; // CLI11 writes into the values: a map keeps them put
  std::unique_ptr<CLI::App> app_;
};

} // namespace nanocaf::apps
