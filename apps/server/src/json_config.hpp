// --config FILE for CLI11: a JSON object whose keys are flag names, e.g.
// {"heartbeat": 10, "ws": "0.0.0.0:3250", "error-replies": false}. Flags on the command line
// win over it; an unknown key is an error, as an unknown flag is.
#pragma once

#include <CLI/CLI.hpp>

namespace nanocaf::server_detail {

class json_config final : public CLI::Config {
public:
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override;
};

} // namespace nanocaf::server_detail
