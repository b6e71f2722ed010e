// The cluster's actors: one member actor per node, plus the master actor on the master.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "detail/messages.hpp"
#include "detail/security.hpp"
#include "nanocaf/metrics.hpp"

namespace nanocaf {
class runtime;
}

namespace nanocaf::cluster::detail {

/// Membership tables, routing of messages for remote services, remote sessions, and (on a
/// non-master) registration and heartbeats.
caf::actor spawn_member(runtime& rt, const options& opts, member_info self_info,
                        std::shared_ptr<status_board> board,
                        std::shared_ptr<const node_security> security);

/// Membership authority: Register / Unregister / Heartbeat and eviction. Tells the local
/// member actor `member` about joins and leaves, as NewMember / DelMember tell the others.
caf::actor spawn_master(caf::actor_system& sys, const options& opts, member_info self_info,
                        caf::actor member, metrics::registry& registry,
                        std::shared_ptr<const node_security> security,
                        std::shared_ptr<channel_keeper> channels);

} // namespace nanocaf::cluster::detail
