// What a node does with the one-way messages other nodes send it (nano's HandleRequest,
// HandleNotify, HandlePush, HandleResponse, SessionClosed, CloseSession and our Kick, Bind),
// whether they come one per unary call or many in a Relay batch. Runs on gRPC threads: each
// message is only handed to an actor.
#pragma once

#include <mutex>

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

  grpc::Status request(const clusterpb::RequestMessage& m);
  grpc::Status notify(const clusterpb::NotifyMessage& m);
  grpc::Status push(const clusterpb::PushMessage& m);
  grpc::Status response(const clusterpb::ResponseMessage& m);
  grpc::Status session_closed(const clusterpb::SessionClosedRequest& m);
  grpc::Status close_session(const clusterpb::CloseSessionRequest& m);
  grpc::Status kick(const nanocaf::cluster::KickRequest& m);
  grpc::Status bind(const nanocaf::cluster::BindRequest& m);
  grpc::Status error_reply(const nanocaf::cluster::ErrorReply& m);
  grpc::Status forward(const nanocaf::cluster::Forward& m);
  grpc::Status state_change(const nanocaf::cluster::StateChange& m);
  /// A component's call from another node, answered with a CallReply in a batch back.
  grpc::Status call(const nanocaf::cluster::CallRequest& m);
  /// The reply to one of this node's calls.
  grpc::Status call_reply(const nanocaf::cluster::CallReply& m);

  /// One item of a batch, by its kind.
  grpc::Status apply(const nanocaf::cluster::Envelope& e);

  /// The member actor (null once detached).
  caf::actor member() const;
  /// Drops the actor handle (before the actor system goes away).
  void detach();

private:
  runtime& rt_;
  mutable std::mutex mu_; // detach() runs on the stopping thread while calls may still arrive
  caf::actor member_;
};

} // namespace nanocaf::cluster::detail
