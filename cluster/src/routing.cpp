#include "detail/routing.hpp"

#include <algorithm>

namespace nanocaf::cluster::detail {

std::string choose_node(const std::string& service, const session& origin,
                        const client_ref& client, const std::vector<std::string>& candidates,
                        const std::map<std::string, member_info>& members,
                        const route_function& route, std::mt19937& rng) {
  if (auto bound = origin.find_route(service)) {
    if (std::find(candidates.begin(), candidates.end(), *bound) != candidates.end())
      return *bound;
    origin.delete_route(service); // its node left: choose again
  }
  std::string chosen;
  if (route) {
    std::vector<member_info> infos;
    for (auto& addr : candidates)
      if (auto m = members.find(addr); m != members.end())
        infos.push_back(m->second);
    chosen = route(service, origin, client, infos);
    if (chosen.empty())
      return chosen;
  } else {
    std::uniform_int_distribution<std::size_t> pick{0, candidates.size() - 1};
    chosen = candidates[pick(rng)];
  }
  origin.bind_route(service, chosen);
  return chosen;
}

} // namespace nanocaf::cluster::detail
