#include "remote_outlet.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "detail/peer.hpp"
#include "detail/state_convert.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

void remote_outlet::deliver(codec::message_type type, std::uint64_t mid, std::string_view route,
                            std::string payload) {
  // No failure handler: nothing waits for a reply or a push, and the peer logs a lost one
  // (a handler per message would cost an allocation per message).
  if (type == codec::message_type::response) {
    paid_one();
    nanocaf::cluster::Envelope e;
    auto& resp = *e.mutable_response();
    resp.set_sessionid(gate_session_);
    resp.set_id(mid);
    resp.set_data(std::move(payload));
    caf::anon_send(peer_, message_job(gate_session_, std::move(e)));
    return;
  }
  nanocaf::cluster::Envelope e;
  auto& push = *e.mutable_push();
  push.set_sessionid(gate_session_);
  push.set_route(std::string{route});
  push.set_data(std::move(payload));
  caf::anon_send(peer_, message_job(gate_session_, std::move(e)));
}

void remote_outlet::error_reply(std::uint64_t mid, int code, const std::string& text,
                                const std::string& error_id) {
  paid_one();
  nanocaf::cluster::Envelope e;
  auto& r = *e.mutable_errorreply();
  r.set_sessionid(gate_session_);
  r.set_id(mid);
  r.set_code(code);
  r.set_error(text);
  r.set_errorid(error_id);
  caf::anon_send(peer_, message_job(gate_session_, std::move(e)));
}

void remote_outlet::paid_one() {
  // A handler may answer twice (response_to): only what was owed is paid back.
  auto owed = owed_.load(std::memory_order_acquire);
  while (owed > 0 && !owed_.compare_exchange_weak(owed, owed - 1, std::memory_order_acq_rel)) {
  }
  if (owed > 0)
    board_->requests_in_flight.fetch_sub(1, std::memory_order_acq_rel);
}

void remote_outlet::request_arrived() {
  owed_.fetch_add(1, std::memory_order_acq_rel);
  board_->requests_in_flight.fetch_add(1, std::memory_order_acq_rel);
}

void remote_outlet::forgive() {
  board_->requests_in_flight.fetch_sub(owed_.exchange(0, std::memory_order_acq_rel),
                                       std::memory_order_acq_rel);
}

void remote_outlet::kick(shared_bytes kick_packet) {
  nanocaf::cluster::Envelope e;
  auto& req = *e.mutable_kick();
  req.set_sessionid(gate_session_);
  // The packet is {"reason":...} behind a 4-byte header: the gate rebuilds it from the text.
  if (kick_packet && kick_packet->size() > 4) {
    auto body = nlohmann::json::parse(kick_packet->substr(4), nullptr, false);
    if (body.is_object() && body.contains("reason") && body["reason"].is_string())
      req.set_reason(body["reason"].get<std::string>());
  }
  caf::actor peer = peer_;
  auto sid = gate_session_;
  auto nano_gate_fallback = [peer, sid](const call_failure& err) {
    // A nano gate has no Kick: close the session the nano way.
    if (err.code != grpc::StatusCode::UNIMPLEMENTED)
      return;
    nanocaf::cluster::Envelope close;
    close.mutable_closesession()->set_sessionid(sid);
    caf::anon_send(peer, message_job(sid, std::move(close)));
  };
  caf::anon_send(peer_, message_job(gate_session_, std::move(e), std::move(nano_gate_fallback)));
}

void remote_outlet::changed(const state_change& change) {
  nanocaf::cluster::Envelope e;
  auto& c = *e.mutable_statechange();
  c.set_sessionid(gate_session_);
  c.set_node(self_);
  to_proto(change, c);
  caf::anon_send(peer_, message_job(gate_session_, std::move(e)));
}

void remote_outlet::close() {
  nanocaf::cluster::Envelope e;
  e.mutable_closesession()->set_sessionid(gate_session_);
  caf::anon_send(peer_, message_job(gate_session_, std::move(e)));
}

} // namespace nanocaf::cluster::detail
