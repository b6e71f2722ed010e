#include "nanocaf/session.hpp"

#include <algorithm>
#include <utility>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "detail/actors.hpp"
#include "detail/messages.hpp"
#include "detail/node_metrics.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/component.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf {

namespace detail {

namespace {
thread_local caf::actor* current_actor = nullptr;
thread_local session_core* current_session = nullptr;
} // namespace

caf::actor* current_component_actor() noexcept { return current_actor; }
void set_current_component_actor(caf::actor* a) noexcept { current_actor = a; }
session_core* current_request_session() noexcept { return current_session; }
void set_current_request_session(session_core* s) noexcept { current_session = s; }

bool session_core::charge_fanout(std::size_t deliveries) {
  auto limit = ctx->options.fanout_limit;
  if (limit <= 0)
    return true;
  std::lock_guard<std::mutex> guard{fanout_mu};
  auto now = now_ms();
  if (fanout_tokens < 0)
    fanout_tokens = limit;
  else
    fanout_tokens = std::min(limit, fanout_tokens + limit * static_cast<double>(now - fanout_at_ms) / 1000);
  fanout_at_ms = now;
  // A full bucket lets one broadcast through whatever its size (a room bigger than the
  // budget is not a flood); the debt then waits to be paid back.
  if (fanout_tokens < static_cast<double>(deliveries) && fanout_tokens < limit) {
    if (!std::exchange(fanout_kicked, true)) {
      ctx->stats->rate_limited.inc();
      log::warn("session ", id, " (", out->remote_address(), "): kicked: its broadcasts cost more than ",
                limit, " deliveries per second");
      out->kick(make_kick_packet("rate limit exceeded"));
    }
    return false;
  }
  fanout_tokens -= static_cast<double>(deliveries);
  return true;
}

errc session_core::send_message(const session& s, codec::message_type type, std::uint64_t mid,
                                std::string_view route, std::string payload) {
  if (closed.load(std::memory_order_acquire))
    return errc::broken_pipe;
  if (out->forwards_messages()) {
    out->deliver(type, mid, route, std::move(payload));
    return errc::ok;
  }
  // Encoded into this thread's scratch buffer: a connection with nothing queued writes it at
  // once, so most replies and pushes cost no allocation (send_copy copies only what waits).
  // Hooks run before it is touched: they may send too.
  thread_local std::string packet;
  codec::error err;
  if (auto* hooks = ctx->hooks(); hooks && !hooks->outbound.empty()) {
    codec::message msg{type, mid, std::string{route}, std::move(payload), false};
    if (!hooks->outbound.process(s, msg))
      return errc::dropped;
    packet.clear();
    err = codec::encode_data_packet(msg.type, msg.id, msg.route, msg.payload,
                                    &ctx->options.dictionary, packet);
  } else {
    packet.clear();
    err = codec::encode_data_packet(type, mid, route, payload, &ctx->options.dictionary, packet);
  }
  if (err != codec::error::none) {
    log::warn("session ", id, ": cannot encode ", codec::to_string(type), " ", route, ": ",
              codec::to_string(err));
    return errc::encode_failed;
  }
  out->send_copy(packet);
  if (packet.capacity() > 64 * 1024)
    std::string{}.swap(packet); // a rare big packet does not stay with the thread
  return errc::ok;
}

void run_closed_callback(closed_callback cb, const session& s) {
  auto run = [fn = std::move(cb.fn), s] {
    try {
      fn(s);
    } catch (const std::exception& e) {
      log::error("session ", s.id(), ": on-closed callback threw: ", e.what());
    }
  };
  if (cb.owner)
    caf::anon_send(cb.owner, task_msg{std::move(run)});
  else
    run();
}

void send_error_reply(const std::shared_ptr<session_core>& core, std::uint64_t mid, int code,
                      const std::string& text, const std::string& error_id) {
  if (mid == 0)
    return;
  if (core->out->takes_error_replies()) { // a call, or a client of another node's gate
    core->out->error_reply(mid, code, text, error_id);
    return;
  }
  core->ctx->stats->error_reply(code); // counted where the client is, nano mode or not
  if (!core->ctx->options.error_replies)
    return;
  nlohmann::json body{{"code", code}, {"error", text}};
  if (!error_id.empty())
    body["id"] = error_id;
  auto s = detail::make_session(core, mid);
  // The text may quote client bytes (a route): invalid UTF-8 is replaced, never thrown.
  core->send_message(s, codec::message_type::response, mid, {},
                     body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string send_failure_reply(const std::shared_ptr<session_core>& core, std::uint64_t mid,
                               int code, std::string_view detail) {
  auto id = new_error_id();
  log::warn("error ", id, " (", code, ", session ", core->id, "): ", detail);
  send_error_reply(core, mid, code, generic_error_text(code), id);
  return id;
}

} // namespace detail

std::int64_t session::id() const noexcept { return core_ ? core_->id : 0; }

std::int64_t session::uid() const noexcept {
  return core_ ? core_->uid.load(std::memory_order_relaxed) : 0;
}

errc session::bind(std::int64_t uid) const {
  if (uid < 1)
    return errc::illegal_uid;
  state_change change{state_change::kind::bind, {}, {}};
  change.uid = uid;
  return detail::change_state(*core_, std::move(change), true);
}

const std::string& session::remote_address() const noexcept { return core_->out->remote_address(); }

bool session::closed() const noexcept { return core_->closed.load(std::memory_order_acquire); }

const std::shared_ptr<outlet>& wiring::outlet_of(const session& s) noexcept { return detail::core_of(s)->out; }

serializer_kind session::serializer() const noexcept { return core_->ctx->options.serializer; }

std::size_t detail::max_json_depth(const session& s) noexcept {
  return detail::core_of(s)->ctx->options.max_json_depth;
}

errc session::push_payload(std::string_view route, std::string payload) const {
  return core_->send_message(*this, codec::message_type::push, 0, route, std::move(payload));
}

errc session::rpc_payload(std::string_view route, std::string payload) const {
  detail::dispatch(core_, codec::message{codec::message_type::notify, 0, std::string{route},
                                         std::move(payload), false});
  return errc::ok;
}

void session::response_error(std::uint64_t mid, int code, const std::string& text,
                             const std::string& error_id) const {
  detail::send_error_reply(core_, mid, code, text, error_id);
}

std::string session::response_failure(std::uint64_t mid, int code,
                                      std::string_view detail) const {
  return detail::send_failure_reply(core_, mid, code, detail);
}

errc session::response_payload(std::uint64_t mid, std::string payload) const {
  if (mid == 0)
    return errc::session_on_notify;
  return core_->send_message(*this, codec::message_type::response, mid, {}, std::move(payload));
}

shared_bytes make_kick_packet(std::string_view reason) {
  auto packet = std::make_shared<std::string>();
  // Replacement of invalid UTF-8 keeps a bad reason from throwing out of dump().
  auto body = nlohmann::json{{"reason", reason}}.dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace);
  codec::encode_packet(codec::packet_type::kick, body, *packet);
  return packet;
}

void session::kick(std::string_view reason) const {
  if (core_->closed.load(std::memory_order_acquire))
    return;
  core_->ctx->stats->kicks.inc();
  core_->out->kick(make_kick_packet(reason));
}

void session::close() const { core_->out->close(); }

errc session::set(const std::string& key, nlohmann::json value) const {
  return detail::change_state(*core_, {state_change::kind::set, key, std::move(value)}, true);
}

void session::remove(const std::string& key) const {
  detail::change_state(*core_, {state_change::kind::remove, key, {}}, true);
}

bool session::has(const std::string& key) const {
  std::lock_guard<std::mutex> guard{core_->mu};
  return core_->data.contains(key);
}

nlohmann::json session::value(const std::string& key) const {
  std::lock_guard<std::mutex> guard{core_->mu};
  auto i = core_->data.find(key);
  return i == core_->data.end() ? nlohmann::json{} : *i;
}

nlohmann::json session::state() const {
  std::lock_guard<std::mutex> guard{core_->mu};
  return core_->data;
}

errc session::restore(nlohmann::json object) const {
  return detail::change_state(*core_, {state_change::kind::restore, {}, std::move(object)}, true);
}

void session::clear() const { detail::change_state(*core_, {state_change::kind::clear, {}, {}}, true); }

void session::bind_node(const std::string& service, const std::string& address) const {
  detail::change_state(*core_, {state_change::kind::route, service, address}, true);
}

void session::unbind_node(const std::string& service) const {
  detail::change_state(*core_, {state_change::kind::unroute, service, {}}, true);
}

std::optional<std::string> session::find_node(const std::string& service) const {
  std::lock_guard<std::mutex> guard{core_->mu};
  if (auto pin = core_->route_bindings.find(service); pin != core_->route_bindings.end())
    return pin->second;
  if (auto sticky = core_->sticky_routes.find(service); sticky != core_->sticky_routes.end())
    return sticky->second;
  return std::nullopt;
}

void session::on_closed(std::function<void(const session&)> fn) const {
  caf::actor owner;
  if (auto* current = detail::current_component_actor())
    owner = *current;
  detail::closed_callback cb{std::move(owner), std::move(fn)};
  {
    std::lock_guard<std::mutex> guard{core_->mu};
    if (!core_->callbacks_fired) {
      core_->callbacks.push_back(std::move(cb));
      return;
    }
  }
  detail::run_closed_callback(std::move(cb), *this); // registered after the close: run now
}

} // namespace nanocaf
