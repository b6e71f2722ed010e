#include "remote_outlet.hpp"

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "detail/peer.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

void remote_outlet::deliver(codec::message_type type, std::uint64_t mid, std::string_view route,
                            std::string payload) {
  auto lost = [text = text_](const std::string& err) {
    log::debug("message to ", text, " lost: ", err);
  };
  if (type == codec::message_type::response) {
    // A handler may answer twice (response_to): only what was owed is paid back.
    auto owed = owed_.load(std::memory_order_acquire);
    while (owed > 0 && !owed_.compare_exchange_weak(owed, owed - 1, std::memory_order_acq_rel)) {
    }
    if (owed > 0)
      board_->requests_in_flight.fetch_sub(1, std::memory_order_acq_rel);
    clusterpb::ResponseMessage req;
    req.set_sessionid(gate_session_);
    req.set_id(mid);
    req.set_data(std::move(payload));
    caf::anon_send(peer_, make_job<clusterpb::MemberHandleResponse>(
                            gate_session_, std::move(req), NANOCAF_CALL(member, HandleResponse), lost));
    return;
  }
  clusterpb::PushMessage req;
  req.set_sessionid(gate_session_);
  req.set_route(std::string{route});
  req.set_data(std::move(payload));
  caf::anon_send(peer_, make_job<clusterpb::MemberHandleResponse>(
                          gate_session_, std::move(req), NANOCAF_CALL(member, HandlePush), lost));
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
  nanocaf::cluster::KickRequest req;
  req.set_sessionid(gate_session_);
  // The packet is {"reason":...} behind a 4-byte header: the gate rebuilds it from the text.
  if (kick_packet && kick_packet->size() > 4) {
    auto body = nlohmann::json::parse(kick_packet->substr(4), nullptr, false);
    if (body.is_object() && body.contains("reason") && body["reason"].is_string())
      req.set_reason(body["reason"].get<std::string>());
  }
  caf::actor peer = peer_;
  auto sid = gate_session_;
  caf::anon_send(peer_, make_job<nanocaf::cluster::GateReply>(
                          gate_session_, std::move(req), NANOCAF_CALL(gate, Kick),
                          [peer, sid](const std::string& err) {
                            if (err.rfind("12 ", 0) != 0) // not UNIMPLEMENTED: nothing to do
                              return;
                            clusterpb::CloseSessionRequest close;
                            close.set_sessionid(sid);
                            caf::anon_send(peer, make_job<clusterpb::CloseSessionResponse>(
                                                   sid, std::move(close),
                                                   NANOCAF_CALL(member, CloseSession)));
                          }));
}

void remote_outlet::bound(std::int64_t uid) {
  nanocaf::cluster::BindRequest req;
  req.set_sessionid(gate_session_);
  req.set_uid(uid);
  caf::anon_send(peer_, make_job<nanocaf::cluster::GateReply>(
                          gate_session_, std::move(req), NANOCAF_CALL(gate, Bind),
                          [text = text_](const std::string& err) {
                            log::debug("bind on the gate of ", text, " not applied: ", err);
                          }));
}

void remote_outlet::close() {
  clusterpb::CloseSessionRequest req;
  req.set_sessionid(gate_session_);
  caf::anon_send(peer_, make_job<clusterpb::CloseSessionResponse>(
                          gate_session_, std::move(req), NANOCAF_CALL(member, CloseSession)));
}

} // namespace nanocaf::cluster::detail
