// nano's Member and Master gRPC services (callback API). Handlers run on gRPC threads and only
// hand work to actors: what crosses nodes arrives as typed actor messages.
#pragma once

#include <caf/actor.hpp>
#include <grpcpp/support/message_allocator.h>

#include "detail/inbound.hpp"
#include "detail/security.hpp"
#include "nanocaf/proto/cluster.grpc.pb.h"
#include "nanocaf/proto/nanocaf_cluster.grpc.pb.h"

namespace nanocaf {
class runtime;
}

namespace nanocaf::cluster::detail {

class member_service final : public clusterpb::Member::CallbackService {
public:
  member_service(inbound& in, std::shared_ptr<const node_security> security)
    : in_(in), security_(std::move(security)) {}

  grpc::ServerUnaryReactor* HandleRequest(grpc::CallbackServerContext* ctx,
                                          const clusterpb::RequestMessage* req,
                                          clusterpb::MemberHandleResponse* resp) override;
  grpc::ServerUnaryReactor* HandleNotify(grpc::CallbackServerContext* ctx,
                                         const clusterpb::NotifyMessage* req,
                                         clusterpb::MemberHandleResponse* resp) override;
  grpc::ServerUnaryReactor* HandlePush(grpc::CallbackServerContext* ctx,
                                       const clusterpb::PushMessage* req,
                                       clusterpb::MemberHandleResponse* resp) override;
  grpc::ServerUnaryReactor* HandleResponse(grpc::CallbackServerContext* ctx,
                                           const clusterpb::ResponseMessage* req,
                                           clusterpb::MemberHandleResponse* resp) override;
  grpc::ServerUnaryReactor* NewMember(grpc::CallbackServerContext* ctx,
                                      const clusterpb::NewMemberRequest* req,
                                      clusterpb::NewMemberResponse* resp) override;
  grpc::ServerUnaryReactor* DelMember(grpc::CallbackServerContext* ctx,
                                      const clusterpb::DelMemberRequest* req,
                                      clusterpb::DelMemberResponse* resp) override;
  grpc::ServerUnaryReactor* SessionClosed(grpc::CallbackServerContext* ctx,
                                          const clusterpb::SessionClosedRequest* req,
                                          clusterpb::SessionClosedResponse* resp) override;
  grpc::ServerUnaryReactor* CloseSession(grpc::CallbackServerContext* ctx,
                                         const clusterpb::CloseSessionRequest* req,
                                         clusterpb::CloseSessionResponse* resp) override;

private:
  inbound& in_;
  std::shared_ptr<const node_security> security_; // checks the cluster secret
};

class master_service final : public clusterpb::Master::CallbackService {
public:
  master_service(caf::actor master, std::shared_ptr<const node_security> security)
    : master_(std::move(master)), security_(std::move(security)) {}

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const clusterpb::RegisterRequest* req,
                                     clusterpb::RegisterResponse* resp) override;
  grpc::ServerUnaryReactor* Unregister(grpc::CallbackServerContext* ctx,
                                       const clusterpb::UnregisterRequest* req,
                                       clusterpb::UnregisterResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const clusterpb::HeartbeatRequest* req,
                                      clusterpb::HeartbeatResponse* resp) override;

  void detach() { master_ = nullptr; }

private:
  caf::actor master_;
  std::shared_ptr<const node_security> security_; // checks the cluster secret
};

/// Our Gate extension: a backend's kick and bind reach the client's session here.
class gate_service final : public nanocaf::cluster::Gate::CallbackService {
public:
  gate_service(inbound& in, std::shared_ptr<const node_security> security)
    : in_(in), security_(std::move(security)) {}

  grpc::ServerUnaryReactor* Kick(grpc::CallbackServerContext* ctx,
                                 const nanocaf::cluster::KickRequest* req,
                                 nanocaf::cluster::GateReply* resp) override;
  grpc::ServerUnaryReactor* Bind(grpc::CallbackServerContext* ctx,
                                 const nanocaf::cluster::BindRequest* req,
                                 nanocaf::cluster::GateReply* resp) override;

private:
  inbound& in_;
  std::shared_ptr<const node_security> security_; // checks the cluster secret
};

/// A Relay batch and its reply in one protobuf arena: parsing a batch of a hundred messages
/// costs a few blocks instead of several allocations per message, and it goes in one piece.
class batch_arena_allocator final
  : public grpc::MessageAllocator<nanocaf::cluster::Batch, nanocaf::cluster::BatchReply> {
public:
  grpc::MessageHolder<nanocaf::cluster::Batch, nanocaf::cluster::BatchReply>*
  AllocateMessages() override;
};

/// Our Relay extension: many one-way messages in one call, applied in order.
class relay_service final : public nanocaf::cluster::Relay::CallbackService {
public:
  relay_service(inbound& in, std::shared_ptr<const node_security> security)
    : in_(in), security_(std::move(security)) {
    SetMessageAllocatorFor_Deliver(&allocator_);
  }

  grpc::ServerUnaryReactor* Deliver(grpc::CallbackServerContext* ctx,
                                    const nanocaf::cluster::Batch* req,
                                    nanocaf::cluster::BatchReply* resp) override;

private:
  inbound& in_;
  std::shared_ptr<const node_security> security_; // checks the cluster secret
  batch_arena_allocator allocator_;
};

/// Our Peer extension: request/reply calls from other nodes.
class peer_service final : public nanocaf::cluster::Peer::CallbackService {
public:
  peer_service(runtime& rt, caf::actor member, std::shared_ptr<const node_security> security)
    : rt_(rt), member_(std::move(member)), security_(std::move(security)) {}

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx,
                                 const nanocaf::cluster::CallRequest* req,
                                 nanocaf::cluster::CallReply* resp) override;

  void detach() { member_ = nullptr; }

private:
  runtime& rt_;
  caf::actor member_;
  std::shared_ptr<const node_security> security_; // checks the cluster secret
};

} // namespace nanocaf::cluster::detail
