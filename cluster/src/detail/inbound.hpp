// What a node does with the one-way messages other nodes send it (nano's HandleRequest,
// HandleNotify, HandlePush, HandleResponse, SessionClosed, CloseSession and our Kick, Bind),
// whether they come one per unary call or many in a Relay batch. Runs on gRPC threads: each
// message is only handed to an actor. The messages are taken non-const: a call's request is
// that call's alone, so its routes and payloads are moved into the actors' messages.
#pragma once

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <grpcpp/support/status.h>

#include "nanocaf/proto/cluster.pb.h"
#include "nanocaf/proto/nanocaf_cluster.pb.h"

namespace nanocaf {
class runtime;
}

namespace nanocaf::cluster::detail {

class inbound {
public:
  inbound(runtime& rt, caf::actor member) : rt_(rt), member_(std::move(member)) {}

  grpc::Status request(clusterpb::RequestMessage& m);
  grpc::Status notify(clusterpb::NotifyMessage& m);
  grpc::Status push(clusterpb::PushMessage& m);
  grpc::Status response(clusterpb::ResponseMessage& m);
  grpc::Status session_closed(clusterpb::SessionClosedRequest& m);
  grpc::Status close_session(clusterpb::CloseSessionRequest& m);
  grpc::Status kick(nanocaf::cluster::KickRequest& m);
  grpc::Status bind(nanocaf::cluster::BindRequest& m);
  grpc::Status error_reply(nanocaf::cluster::ErrorReply& m);
  grpc::Status forward(nanocaf::cluster::Forward& m);
  grpc::Status state_change(nanocaf::cluster::StateChange& m);
  /// A component's call from another node, answered with a CallReply in a batch back.
  grpc::Status call(nanocaf::cluster::CallRequest& m);
  /// The reply to one of this node's calls.
  grpc::Status call_reply(nanocaf::cluster::CallReply& m);

  /// What the items of one batch leave to do once, after the last: the member actor hears of
  /// all the replies that arrived in one message, not one each.
  struct batch_effects {
    std::vector<std::pair<std::int64_t, std::uint64_t>> responses_seen; // (session, message id)
  };
  /// One item of a batch, by its kind.
  grpc::Status apply(nanocaf::cluster::Envelope& e, batch_effects& effects);
  /// After the batch's last item.
  void finish(batch_effects& effects);

  /// The member actor (null once detached).
  caf::actor member() const;
  /// Drops the actor handle (before the actor system goes away).
  void detach();

private:
  grpc::Status deliver_response(clusterpb::ResponseMessage& m);
  grpc::Status deliver_error_reply(nanocaf::cluster::ErrorReply& m);

  runtime& rt_;
  mutable std::mutex mu_; // detach() runs on the stopping thread while calls may still arrive
  caf::actor member_;
};

} // namespace nanocaf::cluster::detail
