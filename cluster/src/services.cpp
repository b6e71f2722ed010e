#include "detail/services.hpp"

#include "detail/state_convert.hpp"

#include <caf/send.hpp>

#include "detail/convert.hpp"
#include "detail/messages.hpp"
#include "detail/peer.hpp"
#include "nanocaf/runtime.hpp"

namespace nanocaf::cluster::detail {

namespace {

grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* ctx, grpc::Status status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// gRPC hands a request over as const, but the object is this call's alone (not const itself)
// and dies with it: inbound moves its strings into the actors' messages instead of copying.
template <class Request>
Request& taken(const Request* req) {
  return *const_cast<Request*>(req);
}

// The heartbeat period a nanocaf member announced; nullopt for nodes that do not say (Go
// nano nodes): the master then learns their period from the heartbeats themselves.
std::optional<std::chrono::milliseconds> announced_heartbeat(const grpc::CallbackServerContext* ctx) {
  auto& md = ctx->client_metadata();
  auto i = md.find(heartbeat_metadata_key);
  if (i == md.end())
    return std::nullopt;
  try {
    auto ms = std::stol(std::string{i->second.data(), i->second.size()});
    return ms > 0 ? std::optional{std::chrono::milliseconds{ms}} : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace

grpc::ServerUnaryReactor* member_service::HandleRequest(grpc::CallbackServerContext* ctx,
                                                        const clusterpb::RequestMessage* req,
                                                        clusterpb::MemberHandleResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.request(taken(req)));
}

grpc::ServerUnaryReactor* member_service::HandleNotify(grpc::CallbackServerContext* ctx,
                                                       const clusterpb::NotifyMessage* req,
                                                       clusterpb::MemberHandleResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.notify(taken(req)));
}

grpc::ServerUnaryReactor* member_service::HandlePush(grpc::CallbackServerContext* ctx,
                                                     const clusterpb::PushMessage* req,
                                                     clusterpb::MemberHandleResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.push(taken(req)));
}

grpc::ServerUnaryReactor* member_service::HandleResponse(grpc::CallbackServerContext* ctx,
                                                         const clusterpb::ResponseMessage* req,
                                                         clusterpb::MemberHandleResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.response(taken(req)));
}

grpc::ServerUnaryReactor* member_service::NewMember(grpc::CallbackServerContext* ctx,
                                                    const clusterpb::NewMemberRequest* req,
                                                    clusterpb::NewMemberResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  caf::anon_send(in_.member(), join_msg{{from_proto(req->memberinfo())}});
  return finish(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* member_service::DelMember(grpc::CallbackServerContext* ctx,
                                                    const clusterpb::DelMemberRequest* req,
                                                    clusterpb::DelMemberResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  auto& md = ctx->client_metadata();
  auto hint = md.find(leave_metadata_key);
  bool draining = hint != md.end() && hint->second == "drain";
  caf::anon_send(in_.member(), leave_atom::value, req->serviceaddr(), draining);
  return finish(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* member_service::SessionClosed(grpc::CallbackServerContext* ctx,
                                                        const clusterpb::SessionClosedRequest* req,
                                                        clusterpb::SessionClosedResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.session_closed(taken(req)));
}

grpc::ServerUnaryReactor* member_service::CloseSession(grpc::CallbackServerContext* ctx,
                                                       const clusterpb::CloseSessionRequest* req,
                                                       clusterpb::CloseSessionResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.close_session(taken(req)));
}

grpc::ServerUnaryReactor* gate_service::Kick(grpc::CallbackServerContext* ctx,
                                             const nanocaf::cluster::KickRequest* req,
                                             nanocaf::cluster::GateReply*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.kick(taken(req)));
}

grpc::ServerUnaryReactor* gate_service::Bind(grpc::CallbackServerContext* ctx,
                                             const nanocaf::cluster::BindRequest* req,
                                             nanocaf::cluster::GateReply*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  return finish(ctx, in_.bind(taken(req)));
}

grpc::ServerUnaryReactor* peer_service::Call(grpc::CallbackServerContext* ctx,
                                             const nanocaf::cluster::CallRequest* req,
                                             nanocaf::cluster::CallReply* resp) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  auto* reactor = ctx->DefaultReactor();
  if (!rt_.has_route(req->route())) {
    resp->set_code(reply_code::route_not_found);
    resp->set_error("route not found: " + req->route());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // The handler's reply completes the call, on whatever thread it comes from.
  call_handler done = [reactor, resp](call_reply r) {
    to_proto(std::move(r), *resp);
    reactor->Finish(grpc::Status::OK);
  };
  call_in_msg in{req->gateaddr(), req->sessionid(),
                 codec::message{codec::message_type::request, 1, req->route(), req->data(), false},
                 std::move(done), std::nullopt};
  if (req->has_state())
    in.state = from_proto(req->state());
  caf::anon_send(member_, std::move(in));
  return reactor;
}

namespace {

class batch_in_arena final
  : public grpc::MessageHolder<nanocaf::cluster::Batch, nanocaf::cluster::BatchReply> {
public:
  batch_in_arena() : arena_(options()) {
    set_request(google::protobuf::Arena::CreateMessage<nanocaf::cluster::Batch>(&arena_));
    set_response(google::protobuf::Arena::CreateMessage<nanocaf::cluster::BatchReply>(&arena_));
  }
  void Release() override { delete this; }

private:
  static google::protobuf::ArenaOptions options() {
    google::protobuf::ArenaOptions o;
    o.start_block_size = 8 * 1024;
    // Below glibc's 64 KiB: freeing a chunk that size sweeps its fast bins every time.
    o.max_block_size = 32 * 1024;
    return o;
  }
  google::protobuf::Arena arena_;
};

} // namespace

grpc::MessageHolder<nanocaf::cluster::Batch, nanocaf::cluster::BatchReply>*
batch_arena_allocator::AllocateMessages() {
  return new batch_in_arena;
}

grpc::ServerUnaryReactor* relay_service::Deliver(grpc::CallbackServerContext* ctx,
                                                 const nanocaf::cluster::Batch* req,
                                                 nanocaf::cluster::BatchReply* resp) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  // In order: one client's messages in a batch keep the order they were sent in.
  auto& batch = taken(req);
  inbound::batch_effects effects;
  for (int i = 0; i < batch.items_size(); ++i) {
    auto status = in_.apply(*batch.mutable_items(i), effects);
    if (status.ok())
      continue;
    auto* refusal = resp->add_refused();
    refusal->set_index(i);
    refusal->set_code(status.error_code());
    refusal->set_message(status.error_message());
  }
  in_.finish(effects);
  return finish(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* master_service::Register(grpc::CallbackServerContext* ctx,
                                                   const clusterpb::RegisterRequest* req,
                                                   clusterpb::RegisterResponse* resp) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  auto* reactor = ctx->DefaultReactor();
  if (!req->has_memberinfo()) {
    reactor->Finish({grpc::StatusCode::INVALID_ARGUMENT, "invalid register request"});
    return reactor;
  }
  // The master actor answers; the reply runs on its thread and finishes the call.
  caf::anon_send(master_, register_req{from_proto(req->memberinfo()), announced_heartbeat(ctx),
                                       [reactor, resp](const grpc::Status& st,
                                                       const std::vector<member_info>& members) {
                                         for (auto& m : members)
                                           to_proto(m, *resp->add_members());
                                         reactor->Finish(st);
                                       }});
  return reactor;
}

grpc::ServerUnaryReactor* master_service::Unregister(grpc::CallbackServerContext* ctx,
                                                     const clusterpb::UnregisterRequest* req,
                                                     clusterpb::UnregisterResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  auto* reactor = ctx->DefaultReactor();
  caf::anon_send(master_, unregister_req{req->serviceaddr(), [reactor](const grpc::Status& st) {
                                           reactor->Finish(st);
                                         }});
  return reactor;
}

grpc::ServerUnaryReactor* master_service::Heartbeat(grpc::CallbackServerContext* ctx,
                                                    const clusterpb::HeartbeatRequest* req,
                                                    clusterpb::HeartbeatResponse*) {
  if (auto refused = security_->check(ctx))
    return finish(ctx, std::move(*refused));
  auto* reactor = ctx->DefaultReactor();
  caf::anon_send(master_, heartbeat_req{from_proto(req->memberinfo()), announced_heartbeat(ctx),
                                        [reactor](const grpc::Status& st) { reactor->Finish(st); }});
  return reactor;
}

} // namespace nanocaf::cluster::detail
