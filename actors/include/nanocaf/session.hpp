// The session handle a handler gets: cheap to copy (one shared pointer and a message id).
// Reads (id, uid, data) need no round trip; push, response, kick and close go straight to the
// session's outlet, which is thread-safe, so a handler never waits on another actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "nanocaf/bytes.hpp"
#include "nanocaf/errors.hpp"
#include "nanocaf/serialize.hpp"

namespace nanocaf {

namespace detail {
struct session_core;
struct session_access;
} // namespace detail

/// A Kick packet whose body is {"reason":"<reason>"} (JSON-escaped).
shared_bytes make_kick_packet(std::string_view reason);

class session {
public:
  /// An empty handle (valid() is false); the framework hands handlers real ones.
  session() = default;

  bool valid() const noexcept { return core_ != nullptr; }

  // -- identity ----------------------------------------------------------------------------
  /// Unique across nodes: the node id sits in the high bits. Stays below 2^53, so JavaScript
  /// clients see it exactly (nano's snowflake ids do not fit).
  std::int64_t id() const noexcept;
  std::int64_t uid() const noexcept;
  /// Binds a user id; uid < 1 gives errc::illegal_uid.
  errc bind(std::int64_t uid) const;
  std::uint64_t last_mid() const noexcept { return mid_; }
  const std::string& remote_address() const noexcept;
  bool closed() const noexcept;

  // -- messaging ---------------------------------------------------------------------------
  template <class T>
  errc push(std::string_view route, const T& value) const {
    return push_payload(route, encode_payload(serializer(), value));
  }
  /// Answers the request being handled.
  template <class T>
  errc response(const T& value) const {
    return response_payload(mid_, encode_payload(serializer(), value));
  }
  /// Raw bytes that the caller gives up go out without a copy.
  errc response(bytes&& value) const { return response_payload(mid_, std::move(value.data)); }
  /// Answers the request with id `mid` (for replies sent later, from elsewhere).
  template <class T>
  errc response_to(std::uint64_t mid, const T& value) const {
    return response_payload(mid, encode_payload(serializer(), value));
  }

  /// Sends `value` as a Notify to the handler of `route`, on this node or another (nano's
  /// Session.RPC). The client stays the origin, so a remote handler's pushes reach it directly.
  template <class T>
  errc rpc(std::string_view route, const T& value) const {
    return rpc_payload(route, encode_payload(serializer(), value));
  }

  /// Answers request `mid` with the error reply {"code":code,"error":text} (an extension;
  /// nothing is sent under runtime_options::error_replies = false, nano's silence). The text
  /// reaches the client as it is: write it for players.
  /// `error_id` names a log line that explains it (see response_failure).
  void response_error(std::uint64_t mid, int code, const std::string& text,
                      const std::string& error_id = {}) const;
  /// For a failure whose detail is not for clients (an exception, another node's status):
  /// logs `detail` with a new error id and answers request `mid` with
  /// `{"code":code,"error":generic_error_text(code),"id":ERROR_ID}`. Returns the id.
  std::string response_failure(std::uint64_t mid, int code, std::string_view detail) const;

  errc push_payload(std::string_view route, std::string payload) const;
  errc rpc_payload(std::string_view route, std::string payload) const;
  errc response_payload(std::uint64_t mid, std::string payload) const;

  /// Sends a Kick packet whose body is {"reason":"<reason>"}, flushes, then closes.
  /// nano's JS client fires `onKick` with that object.
  void kick(std::string_view reason) const;
  /// Closes the connection at once (no Kick).
  void close() const;

  // -- the client's state ------------------------------------------------------------
  // uid, key-values and node bindings follow the client across the cluster: whatever node
  // changes them, the client's later requests see the change on every node (docs/cluster.md,
  // "Client state"). Reads and writes take a lock inside the session, never a round trip.

  /// Stores `value` under `key`. errc::state_too_large (and no change) when the client's
  /// keys and values, as JSON text, would pass runtime_options::max_client_state.
  errc set(const std::string& key, nlohmann::json value) const;
  void remove(const std::string& key) const;
  bool has(const std::string& key) const;
  /// The value, or null when there is none.
  nlohmann::json value(const std::string& key) const;
  /// The value converted to T, or `fallback` when there is none or it does not convert.
  template <class T>
  T get(const std::string& key, T fallback = T{}) const {
    auto v = value(key);
    if (v.is_null())
      return fallback;
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      return fallback;
    }
  }
  /// A copy of all key-values, as a JSON object (nano returns its live map; we do not).
  nlohmann::json state() const;
  /// Replaces all key-values with `object`'s (errc::state_too_large past the bound, or when
  /// it is not an object).
  errc restore(nlohmann::json object) const;
  /// uid back to 0 and the key-values emptied (node bindings stay).
  void clear() const;

  // -- cluster routing (nano's Session.Router) -----------------------------------------
  /// Pins this client's `service` to the node at `address` (its gRPC address, as in
  /// cluster::member_info): its later messages for that service go there from every node,
  /// whatever the route function says, as long as that node offers the service.
  void bind_node(const std::string& service, const std::string& address) const;
  void unbind_node(const std::string& service) const;
  /// The node this client's `service` is bound to: pinned with bind_node, or chosen for it
  /// by the cluster's default routing (sticky per client).
  std::optional<std::string> find_node(const std::string& service) const;

  // -- lifetime ----------------------------------------------------------------------------
  /// Runs `fn` once the session has closed. Registered from a handler, it runs on that
  /// component's actor (so it may touch the component's state); otherwise on the session's.
  void on_closed(std::function<void(const session&)> fn) const;

  serializer_kind serializer() const noexcept;

private:
  friend struct detail::session_access; // the framework's way to the session's internals
  /// `mid` is the id of the request being handled (0 for a notify or outside a handler).
  explicit session(std::shared_ptr<detail::session_core> core, std::uint64_t mid = 0) noexcept
    : core_(std::move(core)), mid_(mid) {}

  std::shared_ptr<detail::session_core> core_;
  std::uint64_t mid_ = 0;
};

} // namespace nanocaf
