// Which node serves a client's message for a service: the node its session is bound to while
// that node still offers the service, else the route function's choice, else a random one,
// which then sticks to the client. Kept apart from the member actor so that it can be tested
// alone.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "nanocaf/cluster/cluster.hpp"

namespace nanocaf::cluster::detail {

/// `candidates`: the addresses that offer the service, sorted; `members`: what each announced.
/// Returns "" when the route function drops the message.
std::string choose_node(const route_request& request, const std::vector<std::string>& candidates,
                        const std::map<std::string, member_info>& members,
                        const route_function& route, std::mt19937& rng);

} // namespace nanocaf::cluster::detail
