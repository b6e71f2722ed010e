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

grpc::Status inbound::request(const clusterpb::RequestMessage& m) {
  if (!rt_.has_route(m.route()))
    return no_service(m.route());
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, remote_in_msg{m.gateaddr(), m.sessionid(),
                                   codec::message{codec::message_type::request, m.id(), m.route(),
                                                  m.data(), false},
                                   std::nullopt});
  return grpc::Status::OK; // queued; the reply comes as HandleResponse
}

grpc::Status inbound::notify(const clusterpb::NotifyMessage& m) {
  if (!rt_.has_route(m.route()))
    return no_service(m.route());
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, remote_in_msg{m.gateaddr(), m.sessionid(),
                                   codec::message{codec::message_type::notify, 0, m.route(),
                                                  m.data(), false},
                                   std::nullopt});
  return grpc::Status::OK;
}

grpc::Status inbound::push(const clusterpb::PushMessage& m) {
  bool found = wiring::with_session(rt_, m.sessionid(), [route = m.route(), data = m.data()](
                                                 const session& s) { s.push_payload(route, data); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::response(const clusterpb::ResponseMessage& m) {
  auto sid = m.sessionid();
  auto id = m.id();
  bool found = wiring::with_session(rt_, sid, [id, data = m.data()](const session& s) {
    s.response_payload(id, data);
  });
  caf::anon_send(member(), response_seen_atom::value, sid, id);
  return found ? grpc::Status::OK : no_session(sid);
}

grpc::Status inbound::error_reply(const nanocaf::cluster::ErrorReply& m) {
  auto sid = m.sessionid();
  auto id = m.id();
  bool found = wiring::with_session(rt_, sid, [id, code = m.code(), text = m.error(),
                                      error_id = m.errorid()](const session& s) {
    s.response_error(id, code, text, error_id);
  });
  caf::anon_send(member(), response_seen_atom::value, sid, id);
  return found ? grpc::Status::OK : no_session(sid);
}

grpc::Status inbound::forward(const nanocaf::cluster::Forward& m) {
  bool is_request = m.has_request();
  auto& gate = is_request ? m.request().gateaddr() : m.notify().gateaddr();
  auto sid = is_request ? m.request().sessionid() : m.notify().sessionid();
  auto& route = is_request ? m.request().route() : m.notify().route();
  if (!rt_.has_route(route))
    return no_service(route);
  auto to = member();
  if (!to)
    return stopping();
  wiring::forward_state state{m.stateversion(), m.replicaid(), m.appliedseq(), std::nullopt};
  if (m.has_state())
    state.state = from_proto(m.state());
  codec::message msg = is_request
    ? codec::message{codec::message_type::request, m.request().id(), route, m.request().data(), false}
    : codec::message{codec::message_type::notify, 0, route, m.notify().data(), false};
  caf::anon_send(to, remote_in_msg{gate, sid, std::move(msg), std::move(state)});
  return grpc::Status::OK;
}

grpc::Status inbound::state_change(const nanocaf::cluster::StateChange& m) {
  // Applied on the session's actor, in order with the replies that follow it.
  bool found = wiring::with_session(rt_, m.sessionid(), [node = m.node(), change = from_proto(m)](
                                                 const session& s) {
    wiring::apply_remote_change(s, node, change);
  });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::session_closed(const clusterpb::SessionClosedRequest& m) {
  caf::anon_send(member(), remote_closed_atom::value, m.sessionid());
  return grpc::Status::OK;
}

grpc::Status inbound::close_session(const clusterpb::CloseSessionRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(), [](const session& s) { s.close(); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::kick(const nanocaf::cluster::KickRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(),
                                [reason = m.reason()](const session& s) { s.kick(reason); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::bind(const nanocaf::cluster::BindRequest& m) {
  bool found = wiring::with_session(rt_, m.sessionid(), [uid = m.uid()](const session& s) { s.bind(uid); });
  return found ? grpc::Status::OK : no_session(m.sessionid());
}

grpc::Status inbound::call(const nanocaf::cluster::CallRequest& m) {
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

grpc::Status inbound::call_reply(const nanocaf::cluster::CallReply& m) {
  auto to = member();
  if (!to)
    return stopping();
  caf::anon_send(to, call_reply_msg{m});
  return grpc::Status::OK;
}

grpc::Status inbound::apply(const nanocaf::cluster::Envelope& e) {
  using body = nanocaf::cluster::Envelope;
  switch (e.body_case()) {
    case body::kRequest:
      return request(e.request());
    case body::kNotify:
      return notify(e.notify());
    case body::kPush:
      return push(e.push());
    case body::kResponse:
      return response(e.response());
    case body::kSessionClosed:
      return session_closed(e.sessionclosed());
    case body::kCloseSession:
      return close_session(e.closesession());
    case body::kKick:
      return kick(e.kick());
    case body::kBind:
      return bind(e.bind());
    case body::kErrorReply:
      return error_reply(e.errorreply());
    case body::kForward:
      if (!e.forward().has_request() && !e.forward().has_notify())
        break;
      return forward(e.forward());
    case body::kStateChange:
      return state_change(e.statechange());
    case body::kCall:
      return call(e.call());
    case body::kCallReply:
      return call_reply(e.callreply());
    case body::BODY_NOT_SET:
      break;
  }
  return {grpc::StatusCode::INVALID_ARGUMENT, "empty batch item"};
}

} // namespace nanocaf::cluster::detail
