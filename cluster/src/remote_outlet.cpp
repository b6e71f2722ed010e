#include "remote_outlet.hpp"

#include <caf/send.hpp>

#include "detail/peer.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

void remote_outlet::deliver(codec::message_type type, std::uint64_t mid, std::string_view route,
                            std::string payload) {
  auto lost = [text = text_](const std::string& err) {
    log::debug("message to ", text, " lost: ", err);
  };
  if (type == codec::message_type::response) {
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

void remote_outlet::close() {
  clusterpb::CloseSessionRequest req;
  req.set_sessionid(gate_session_);
  caf::anon_send(peer_, make_job<clusterpb::CloseSessionResponse>(
                          gate_session_, std::move(req), NANOCAF_CALL(member, CloseSession)));
}

} // namespace nanocaf::cluster::detail
