// nano's Member and Master gRPC services (callback API). Handlers run on gRPC threads and only
// hand work to actors: what crosses nodes arrives as typed actor messages.
#pragma once

#include <caf/actor.hpp>

#include "nanocaf/proto/cluster.grpc.pb.h"

namespace nanocaf {
class runtime;
}

namespace nanocaf::cluster::detail {

class member_service final : public clusterpb::Member::CallbackService {
public:
  member_service(runtime& rt, caf::actor member) : rt_(rt), member_(std::move(member)) {}

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

  /// Drops the actor handle (before the actor system goes away).
  void detach() { member_ = nullptr; }

private:
  runtime& rt_;
  caf::actor member_;
};

class master_service final : public clusterpb::Master::CallbackService {
public:
  explicit master_service(caf::actor master) : master_(std::move(master)) {}

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
};

} // namespace nanocaf::cluster::detail
