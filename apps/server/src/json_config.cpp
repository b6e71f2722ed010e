#include "json_config.hpp"

#include <nlohmann/json.hpp>

namespace nanocaf::server_detail {

namespace {

std::string as_input(const nlohmann::json& v, const std::string& key) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_boolean())
    return v.get<bool>() ? "true" : "false";
  if (v.is_number())
    return v.dump();
  throw CLI::ConversionError("config key \"" + key + "\": a string, number or boolean is expected");
}

} // namespace

std::vector<CLI::ConfigItem> json_config::from_config(std::istream& in) const {
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw CLI::ConversionError("the config file must hold one JSON object");
  std::vector<CLI::ConfigItem> items;
  for (auto& [key, value] : doc.items()) {
    if (value.is_null())
      continue;
    CLI::ConfigItem item;
    item.name = key;
    if (value.is_array())
      for (auto& v : value)
        item.inputs.push_back(as_input(v, key));
    else
      item.inputs.push_back(as_input(value, key));
    items.push_back(std::move(item));
  }
  return items;
}

std::string json_config::to_config(const CLI::App* app, bool default_also, bool, std::string) const {
  nlohmann::json out = nlohmann::json::object();
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_lnames().empty() || opt->get_configurable() == false)
      continue;
    auto name = opt->get_lnames().front();
    if (opt->count() > 0)
      out[name] = opt->results().size() == 1 ? opt->results().front() : "";
    else if (default_also && !opt->get_default_str().empty())
      out[name] = opt->get_default_str();
  }
  return out.dump(2);
}

} // namespace nanocaf::server_detail
