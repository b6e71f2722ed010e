#include "detail/inbound.hpp"

#include <caf/send.hpp>

#include "detail/messages.hpp"
#include "detail/state_convert.hpp"
#include "nanocaf/errors.hpp"
#include "nanocaf/runtime.hpp"
#include "nanocaf/wiring/runtime.hpp"

namespace nanocaf::cluster::detail {

namespace {

grpc::Status no_session(std::int64_t sid) {
  return {grpc::StatusCode::NOT_FOUND, "session not found: " + std::to_string(sid)};
}

grpc::Status no_service(const std::string& route) {
  return {grpc::StatusCode::NOT_FOUND, "service not found in current node: " + route};
}

// After detach(): refused, so that the sender answers its client instead of waiting for a
// reply that would never come.
grpc::Status stopping() { return {grpc::StatusCode::UNAVAILABLE, "node is stopping"}; }

} // namespace

caf::actor inbound::member() const {
  std::lock_guard<std::mutex> guard{mu_};
  return member_;
}

void inbound::detach() {
  std::lock_guard<std::mutex> guard{mu_};
  member_ = nullptr;
}

grpc::Status inbound::request(clusterpb::RequestMessage& m) {
  if (!rt_.has_route(m.route()))
    return no_service(m.route());
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, remote_in_msg{std::move(*m.mutable_gateaddr()), m.sessionid(),
                                   codec::message{codec::message_type::request, m.id(),
                                                  std::move(*m.mutable_route()),
                                                  std::move(*m.mutable_data()), false},
                                   std::nullopt});
  return grpc::Status::OK; // queued; the reply comes as HandleResponse
}

grpc::Status inbound::notify(clusterpb::NotifyMessage& m) {
  if (!rt_.has_route(m.route()))
    return no_service(m.route());
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, remote_in_msg{std::move(*m.mutable_gateaddr()), m.sessionid(),
                                   codec::message{codec::message_type::notify, 0,
                                                  std::move(*m.mutable_route()),
                                                  std::move(*m.mutable_data()), false},
                                   std::nullopt});
  return grpc::Status::OK;
}

grpc::Status inbound::push(clusterpb::PushMessage& m) {
  bool found = wiring::with_session(
    rt_, m.sessionid(),
    [route = std::move(*m.mutable_route()), data = std::move(*m.mutable_data())](
      const session& s) mutable { s.push_payload(route, std::move(data)); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::response(clusterpb::ResponseMessage& m) {
  auto status = deliver_response(m);
  caf::anon_send(member(), response_seen_atom::value, m.sessionid(), m.id());
  return status;
}

grpc::Status inbound::deliver_response(clusterpb::ResponseMessage& m) {
  auto sid = m.sessionid();
  bool found = wiring::with_session(rt_, sid, [id = m.id(), data = std::move(*m.mutable_data())](
                                                const session& s) mutable {
    s.response_payload(id, std::move(data));
  });
  return found ? grpc::Status::OK : no_session(sid);
}

grpc::Status inbound::error_reply(nanocaf::cluster::ErrorReply& m) {
  auto status = deliver_error_reply(m);
  caf::anon_send(member(), response_seen_atom::value, m.sessionid(), m.id());
  return status;
}

grpc::Status inbound::deliver_error_reply(nanocaf::cluster::ErrorReply& m) {
  auto sid = m.sessionid();
  bool found = wiring::with_session(rt_, sid, [id = m.id(), code = m.code(),
                                               text = std::move(*m.mutable_error()),
                                               error_id = std::move(*m.mutable_errorid())](
                                                const session& s) {
    s.response_error(id, code, text, error_id);
  });
  return found ? grpc::Status::OK : no_session(sid);
}

grpc::Status inbound::forward(nanocaf::cluster::Forward& m) {
  bool is_request = m.has_request();
  auto& gate = is_request ? *m.mutable_request()->mutable_gateaddr()
                          : *m.mutable_notify()->mutable_gateaddr();
  auto sid = is_request ? m.request().sessionid() : m.notify().sessionid();
  auto& route = is_request ? *m.mutable_request()->mutable_route()
                           : *m.mutable_notify()->mutable_route();
  if (!rt_.has_route(route))
    return no_service(route);
  auto to = member();
  if (!to)
    return stopping();
  wiring::forward_state state{m.stateversion(), m.replicaid(), m.appliedseq(), std::nullopt};
  if (m.has_state())
    state.state = from_proto(m.state());
  codec::message msg = is_request
    ? codec::message{codec::message_type::request, m.request().id(), std::move(route),
                     std::move(*m.mutable_request()->mutable_data()), false}
    : codec::message{codec::message_type::notify, 0, std::move(route),
                     std::move(*m.mutable_notify()->mutable_data()), false};
  caf::anon_send(to, remote_in_msg{std::move(gate), sid, std::move(msg), std::move(state)});
  return grpc::Status::OK;
}

grpc::Status inbound::state_change(nanocaf::cluster::StateChange& m) {
  // Applied on the session's actor, in order with the replies that follow it.
  bool found = wiring::with_session(rt_, m.sessionid(), [node = m.node(), change = from_proto(m)](
                                                 const session& s) {
    wiring::apply_remote_change(s, node, change);
  });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::session_closed(clusterpb::SessionClosedRequest& m) {
  caf::anon_send(member(), remote_closed_atom::value, m.sessionid());
  return grpc::Status::OK;
}

grpc::Status inbound::close_session(clusterpb::CloseSessionRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(), [](const session& s) { s.close(); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::kick(nanocaf::cluster::KickRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(),
                                [reason = m.reason()](const session& s) { s.kick(reason); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::bind(nanocaf::cluster::BindRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(), [uid = m.uid()](const session& s) { s.bind(uid); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::call(nanocaf::cluster::CallRequest& m) {
  if (m.replyto().empty())
    return {grpc::StatusCode::INVALID_ARGUMENT, "a call without replyTo"};
  auto to = member();
  if (!to)
    return stopping();
  // Completes on whatever thread the handler answers from: the member sends it back.
  call_handler done = [to, reply_to = m.replyto(), id = m.callid(),
                       sid = m.sessionid()](nanocaf::call_reply r) {
    call_answer_msg answer{reply_to, sid, {}};
    to_proto(std::move(r), answer.reply);
    answer.reply.set_callid(id);
    caf::anon_send(to, std::move(answer));
  };
  if (!rt_.has_route(m.route())) {
    done({reply_code::route_not_found, "route not found: " + m.route(), {}, {}});
    return grpc::Status::OK;
  }
  call_in_msg in{m.gateaddr(), m.sessionid(),
                 codec::message{codec::message_type::request, 1, m.route(), m.data(), false},
                 std::move(done), std::nullopt};
  if (m.has_state())
    in.state = from_proto(m.state());
  caf::anon_send(to, std::move(in));
  return grpc::Status::OK;
}

grpc::Status inbound::call_reply(nanocaf::cluster::CallReply& m) {
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, call_reply_msg{std::move(m)});
  return grpc::Status::OK;
}

grpc::Status inbound::apply(nanocaf::cluster::Envelope& e, batch_effects& effects) {
  using body = nanocaf::cluster::Envelope;
  switch (e.body_case()) {
    case body::kRequest:
      return request(*e.mutable_request());
    case body::kNotify:
      return notify(*e.mutable_notify());
    case body::kPush:
      return push(*e.mutable_push());
    case body::kResponse:
      effects.responses_seen.emplace_back(e.response().sessionid(), e.response().id());
      return deliver_response(*e.mutable_response());
    case body::kSessionClosed:
      return session_closed(*e.mutable_sessionclosed());
    case body::kCloseSession:
      return close_session(*e.mutable_closesession());
    case body::kKick:
      return kick(*e.mutable_kick());
    case body::kBind:
      return bind(*e.mutable_bind());
    case body::kErrorReply:
      effects.responses_seen.emplace_back(e.errorreply().sessionid(), e.errorreply().id());
      return deliver_error_reply(*e.mutable_errorreply());
    case body::kForward:
      if (!e.forward().has_request() && !e.forward().has_notify())
        break;
      return forward(*e.mutable_forward());
    case body::kStateChange:
      return state_change(*e.mutable_statechange());
    case body::kCall:
      return call(*e.mutable_call());
    case body::kCallReply:
      return call_reply(*e.mutable_callreply());
    case body::BODY_NOT_SET:
      break;
  }
  return {grpc::StatusCode::INVALID_ARGUMENT, "empty batch item"};
}

void inbound::finish(batch_effects& effects) {
  if (effects.responses_seen.empty())
    return;
  caf::anon_send(member(), responses_seen_msg{std::move(effects.responses_seen)});
}

} // namespace nanocaf::cluster::detail
