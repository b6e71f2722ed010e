#include "nanocaf/group.hpp"

#include <algorithm>

#include "detail/session_core.hpp"
#include "detail/deferred_writes.hpp"

namespace nanocaf {

errc group::add(const session& s) {
  std::lock_guard<std::mutex> guard{mu_};
  if (closed_)
    return errc::closed_group;
  if (!members_.emplace(s.id(), detail::make_session(detail::core_of(s))).second)
    return errc::session_duplication;
  return errc::ok;
}

errc group::leave(const session& s) {
  std::lock_guard<std::mutex> guard{mu_};
  if (closed_)
    return errc::closed_group;
  members_.erase(s.id());
  return errc::ok;
}

errc group::leave_all() {
  std::lock_guard<std::mutex> guard{mu_};
  if (closed_)
    return errc::closed_group;
  members_.clear();
  return errc::ok;
}

errc group::close() {
  std::lock_guard<std::mutex> guard{mu_};
  if (closed_)
    return errc::close_closed_group;
  closed_ = true;
  members_.clear();
  return errc::ok;
}

bool group::contains(std::int64_t uid) const { return member(uid).has_value(); }

bool group::contains_session(std::int64_t session_id) const {
  std::lock_guard<std::mutex> guard{mu_};
  return members_.count(session_id) != 0;
}

std::optional<session> group::member(std::int64_t uid) const {
  return find_member([uid](const session& s) { return s.uid() == uid; });
}

std::optional<session> group::find_member(const filter& f) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& [id, s] : members_)
    if (f(s))
      return s;
  return std::nullopt;
}

std::vector<std::int64_t> group::members() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<std::int64_t> uids;
  uids.reserve(members_.size());
  for (auto& [id, s] : members_)
    uids.push_back(s.uid());
  return uids;
}

std::vector<session> group::sessions() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<session> out;
  out.reserve(members_.size());
  for (auto& [id, s] : members_)
    out.push_back(s);
  return out;
}

std::size_t group::count() const {
  std::lock_guard<std::mutex> guard{mu_};
  return members_.size();
}

serializer_kind group::format() const {
  std::lock_guard<std::mutex> guard{mu_};
  return members_.empty() ? serializer_kind::json : members_.begin()->second.serializer();
}

errc group::broadcast_payload(std::string_view route, std::string payload, const filter* f) {
  std::vector<session> targets;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (closed_)
      return errc::closed_group;
    targets.reserve(members_.size());
    for (auto& [id, s] : members_)
      targets.push_back(s);
  }
  // Filters run outside the lock: they may call back into the group.
  if (f)
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [f](const session& s) { return !(*f)(s); }),
                  targets.end());
  // A client whose request this broadcast answers pays for it: one token per member.
  if (auto* origin = detail::current_request_session();
      origin && !targets.empty() && !origin->charge_fanout(targets.size()))
    return errc::rate_limited;
  // Encoded before anyone gets it, once per node (dictionary), normally once: a message that
  // cannot be encoded reaches no member rather than some.
  std::vector<std::pair<const detail::node_context*, shared_bytes>> packets;
  for (auto& s : targets) {
    auto* ctx = detail::core_of(s)->ctx.get();
    bool known = std::any_of(packets.begin(), packets.end(),
                             [ctx](const auto& p) { return p.first == ctx; });
    if (known)
      continue;
    auto buf = std::make_shared<std::string>();
    if (codec::encode_data_packet(codec::message_type::push, 0, route, payload,
                                  &ctx->options.dictionary, *buf)
        != codec::error::none)
      return errc::encode_failed;
    packets.emplace_back(ctx, std::move(buf));
  }
  for (auto& s : targets) {
    auto& core = *detail::core_of(s);
    if (core.closed.load(std::memory_order_acquire))
      continue;
    auto* hooks = core.ctx->hooks();
    if (core.out->forwards_messages() || (hooks && !hooks->outbound.empty())) {
      // A remote member's gate encodes; hooks may rewrite each member's copy: no sharing.
      core.send_message(s, codec::message_type::push, 0, route, payload);
      continue;
    }
    auto& packet = std::find_if(packets.begin(), packets.end(), [&](const auto& p) {
                     return p.first == core.ctx.get();
                   })->second;
    write_deferral::send(core.out, packet); // a burst of broadcasts: one write per member
  }
  return errc::ok;
}

} // namespace nanocaf
