#include "nanocaf/validators.hpp"

#include <sstream>

#include <nlohmann/json.hpp>

namespace nanocaf {

namespace {

std::vector<long> version_parts(const std::string& v) {
  std::vector<long> parts;
  std::istringstream in{v};
  for (std::string part; std::getline(in, part, '.');) {
    try {
      parts.push_back(std::stol(part));
    } catch (const std::exception&) {
      parts.push_back(0);
    }
  }
  return parts;
}

// The handshake body as JSON, or null when it is not JSON (Go clients send an empty body).
nlohmann::json handshake_json(std::string_view raw) {
  auto j = nlohmann::json::parse(raw, nullptr, false);
  return j.is_discarded() || !j.is_object() ? nlohmann::json{} : j;
}

} // namespace

int compare_versions(const std::string& a, const std::string& b) {
  auto x = version_parts(a), y = version_parts(b);
  auto n = std::max(x.size(), y.size());
  x.resize(n, 0);
  y.resize(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (x[i] != y[i])
      return x[i] < y[i] ? -1 : 1;
  return 0;
}

handshake_validator require_client_version(std::string minimum) {
  return [minimum](const session&, std::string_view raw) -> std::optional<std::string> {
    auto j = handshake_json(raw);
    auto* version = j.is_object() && j.contains("sys") && j["sys"].is_object()
                      && j["sys"].contains("version") && j["sys"]["version"].is_string()
                      ? &j["sys"]["version"]
                      : nullptr;
    if (!version)
      return "client sent no version (sys.version); " + minimum + " or later is required";
    auto v = version->get<std::string>();
    if (compare_versions(v, minimum) < 0)
      return "client version " + v + " is below " + minimum;
    return std::nullopt;
  };
}

handshake_validator require_token(
  std::function<bool(const session& s, const std::string& token)> accept) {
  return [accept](const session& s, std::string_view raw) -> std::optional<std::string> {
    auto j = handshake_json(raw);
    if (!j.is_object() || !j.contains("user") || !j["user"].is_object()
        || !j["user"].contains("token") || !j["user"]["token"].is_string())
      return "no token in the handshake (user.token)";
    if (!accept(s, j["user"]["token"].get<std::string>()))
      return "token refused";
    return std::nullopt;
  };
}

handshake_validator all_of(std::vector<handshake_validator> validators) {
  return [validators](const session& s, std::string_view raw) -> std::optional<std::string> {
    for (auto& v : validators)
      if (auto refusal = v(s, raw))
        return refusal;
    return std::nullopt;
  };
}

} // namespace nanocaf
