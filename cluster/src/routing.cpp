#include "detail/routing.hpp"

#include <algorithm>

#include "nanocaf/log.hpp"
#include "nanocaf/serialize.hpp"
#include "nanocaf/wiring/client_state.hpp"

namespace nanocaf::cluster::detail {

namespace {

std::string pick_at_random(const std::vector<std::string>& candidates, std::mt19937& rng) {
  std::uniform_int_distribution<std::size_t> pick{0, candidates.size() - 1};
  return candidates[pick(rng)];
}

// 64-bit FNV-1a then a final mix: stable across builds and platforms (std::hash is not
// promised to be), so every node computes the same weights.
std::uint64_t weight(std::string_view key, std::string_view node) {
  std::uint64_t h = 14695981039346656037ull;
  auto eat = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  eat(key);
  eat(std::string_view{"\0", 1}); // "ab"+"c" and "a"+"bc" differ
  eat(node);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Key routing parses client payloads on the gate: the depth limit that guards the handlers'
// decoding guards this too.
constexpr std::size_t max_key_json_depth = 64;
// ... and bounds what it parses: a key sits in a small payload.
constexpr std::size_t max_key_json_bytes = 16 * 1024;

} // namespace

std::string choose_node(const route_request& request, const std::vector<std::string>& candidates,
                        const std::map<std::string, member_info>& members,
                        const route_function& route, std::mt19937& rng) {
  auto& client = request.client;
  if (client.valid()) {
    if (auto bound = client.find_node(request.service)) {
      if (std::find(candidates.begin(), candidates.end(), *bound) != candidates.end())
        return *bound;
      wiring::forget_node(client, request.service); // its node left: choose again
    }
  }
  if (route) {
    std::vector<member_info> infos;
    infos.reserve(candidates.size());
    for (auto& addr : candidates)
      if (auto m = members.find(addr); m != members.end())
        infos.push_back(m->second);
    std::string chosen;
    try {
      chosen = route(request, infos);
    } catch (const std::exception& e) { // an application's function, on every message
      log::warn("route function threw for ", request.route, ": ", e.what());
      return {};
    }
    if (!chosen.empty() || client.valid())
      return chosen; // asked again for the next message: no binding
    return pick_at_random(candidates, rng);
  }
  auto chosen = pick_at_random(candidates, rng);
  if (client.valid())
    wiring::remember_node(client, request.service, chosen);
  return chosen;
}

} // namespace nanocaf::cluster::detail

namespace nanocaf::cluster {

std::string route_by_client(const route_request& request, const std::vector<member_info>& candidates) {
  if (candidates.empty() || request.ref.session_id == 0)
    return {};
  auto n = static_cast<std::int64_t>(candidates.size());
  auto sid = request.ref.session_id;
  return candidates[static_cast<std::size_t>(((sid % n) + n) % n)].service_address;
}

std::string node_for_key(std::string_view key, const std::vector<member_info>& candidates) {
  const member_info* best = nullptr;
  std::uint64_t best_weight = 0;
  for (auto& m : candidates) {
    auto w = detail::weight(key, m.service_address);
    if (!best || w > best_weight || (w == best_weight && m.service_address < best->service_address)) {
      best = &m;
      best_weight = w;
    }
  }
  return best ? best->service_address : std::string{};
}

route_function route_by_key(key_function key_of, route_function otherwise) {
  return [key_of = std::move(key_of), otherwise = std::move(otherwise)](
           const route_request& request, const std::vector<member_info>& candidates) {
    if (auto key = key_of(request))
      return node_for_key(*key, candidates);
    return otherwise ? otherwise(request, candidates) : std::string{};
  };
}

key_function json_field(std::map<std::string, std::string> field_by_route_or_service) {
  return [fields = std::move(field_by_route_or_service)](
           const route_request& request) -> std::optional<std::string> {
    auto field = fields.find(request.route);
    if (field == fields.end())
      field = fields.find(request.service);
    if (field == fields.end() || request.payload.empty() ||
        request.payload.size() > detail::max_key_json_bytes ||
        nanocaf::detail::json_nested_deeper_than(request.payload, detail::max_key_json_depth))
      return std::nullopt;
    auto body = nlohmann::json::parse(request.payload, nullptr, false);
    if (!body.is_object())
      return std::nullopt;
    auto value = body.find(field->second);
    if (value == body.end())
      return std::nullopt;
    if (value->is_string())
      return value->get<std::string>();
    if (value->is_number_integer())
      return value->dump();
    return std::nullopt;
  };
}

} // namespace nanocaf::cluster
