// CAF messages inside the cluster module (local only, hence whitelisted).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <grpcpp/support/status.h>

#include "detail/channel_keeper.hpp"
#include "nanocaf/cluster/cluster.hpp"
#include "nanocaf/call.hpp"
#include "nanocaf/codec/message.hpp"
#include "nanocaf/proto/nanocaf_cluster.pb.h"
#include "nanocaf/session.hpp"
#include "nanocaf/wiring/client_state.hpp"

namespace nanocaf::cluster::detail {

/// A message with no local handler, to send to the node offering its service.
struct forward_msg {
  session origin;
  codec::message msg;
};

/// A Request or Notify from another node (HandleRequest / HandleNotify, or our Forward).
struct remote_in_msg {
  std::string gate;
  std::int64_t gate_session = 0;
  codec::message msg;
  /// From a Forward: the client's state version it needs, and the state when sent along.
  /// Absent from a Go nano node (nano's behaviour: no state travels).
  std::optional<wiring::forward_state> state;
};

/// A call to a route this node lacks (to send with Peer.Call).
struct call_out_msg {
  std::optional<session> client;
  codec::message msg;
  std::chrono::milliseconds timeout;
  call_handler done;
};

/// A Peer.Call from another node, for the client (gate, gate_session) if gate is not empty.
struct call_in_msg {
  std::string gate;
  std::int64_t gate_session = 0;
  codec::message msg;
  call_handler done;
  std::optional<wiring::client_state> state; // that client's, as the caller saw it
};

/// A call's reply to send back to the calling node `reply_to`, in a Relay batch (in order
/// with client `session`'s other messages to it).
struct call_answer_msg {
  std::string reply_to;
  std::int64_t session = 0;
  nanocaf::cluster::CallReply reply;
};

/// The reply to one of this node's calls, from the callee's Relay batch.
struct call_reply_msg {
  nanocaf::cluster::CallReply reply;
};

/// The replies (HandleResponse, ErrorReply) that one batch delivered: (session, message id).
struct responses_seen_msg {
  std::vector<std::pair<std::int64_t, std::uint64_t>> seen;
};

/// Nodes that joined (NewMember, or the master's answer to Register).
struct join_msg {
  std::vector<member_info> members;
};

/// Master requests, answered through `reply` (it finishes the gRPC call).
struct register_req {
  member_info info;
  std::optional<std::chrono::milliseconds> heartbeat; // the period the member announced, if any
  std::function<void(const grpc::Status&, const std::vector<member_info>&)> reply;
};
struct unregister_req {
  std::string address;
  std::function<void(const grpc::Status&)> reply;
};
struct heartbeat_req {
  member_info info;
  std::optional<std::chrono::milliseconds> heartbeat;
  std::function<void(const grpc::Status&)> reply;
};

/// What other threads may read without asking the actors.
struct status_board {
  mutable std::mutex mu;
  std::vector<member_info> members;
  bool registered = false;
  std::size_t remote_sessions = 0;
  // What a graceful stop waits for: requests from other nodes not yet answered, and calls to
  // other nodes not yet completed (the answers among them).
  std::atomic<std::int64_t> requests_in_flight{0};
  std::shared_ptr<std::atomic<std::int64_t>> calls_in_flight =
    std::make_shared<std::atomic<std::int64_t>>(0);
  // The channels of this node's bridges, released by the stop once no call uses them.
  std::shared_ptr<channel_keeper> channels = std::make_shared<channel_keeper>();
};

using leave_atom = caf::atom_constant<caf::atom("leave")>;              // DelMember{address}
using local_closed_atom = caf::atom_constant<caf::atom("lclosed")>;     // our client's session ended
using remote_closed_atom = caf::atom_constant<caf::atom("rclosed")>;    // SessionClosed{sid}
using response_seen_atom = caf::atom_constant<caf::atom("respseen")>;   // HandleResponse{sid, id}
using request_failed_atom = caf::atom_constant<caf::atom("reqfailed")>; // a forward not taken
using start_atom = caf::atom_constant<caf::atom("start")>;
using register_tick_atom = caf::atom_constant<caf::atom("regtick")>;
using registered_atom = caf::atom_constant<caf::atom("registered")>;
using heartbeat_tick_atom = caf::atom_constant<caf::atom("hbtick")>;
using evict_tick_atom = caf::atom_constant<caf::atom("evicttick")>;
using unregister_atom = caf::atom_constant<caf::atom("unreg")>;
using leaving_atom = caf::atom_constant<caf::atom("leaving")>; // stop heartbeats: we unregister
using call_timeout_atom = caf::atom_constant<caf::atom("calltmo")>; // a call's deadline passed
using call_failed_atom = caf::atom_constant<caf::atom("callfail")>; // a call was not taken

} // namespace nanocaf::cluster::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::forward_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::remote_in_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::join_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::call_out_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::call_in_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::call_answer_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::call_reply_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::responses_seen_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::register_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::unregister_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::heartbeat_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<nanocaf::cluster::member_info>)
