// A named set of sessions (spec 4). Thread-safe. A broadcast serialises the value and encodes
// the packet once, then hands the same immutable buffer to every member's connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nanocaf/session.hpp"

namespace nanocaf {

class group {
public:
  using filter = std::function<bool(const session&)>;

  explicit group(std::string name) : name_(std::move(name)) {}

  const std::string& name() const noexcept { return name_; }

  /// errc::closed_group or errc::session_duplication on failure.
  errc add(const session& s);
  /// Removes by session id; absent is not an error.
  errc leave(const session& s);
  errc leave_all();
  /// errc::close_closed_group when already closed.
  errc close();

  bool contains(std::int64_t uid) const;
  bool contains_session(std::int64_t session_id) const;
  std::optional<session> member(std::int64_t uid) const;
  std::optional<session> find_member(const filter& f) const;
  /// Bound uids of all members (0 for unbound ones), in session-id order.
  std::vector<std::int64_t> members() const;
  std::vector<session> sessions() const;
  std::size_t count() const;

  /// Pushes `value` on `route` to every member; errc::closed_group if closed.
  template <class T>
  errc broadcast(std::string_view route, const T& value) {
    return broadcast_payload(route, encode_payload(format(), value), nullptr);
  }
  /// As broadcast, to the members for which `f` returns true.
  template <class T>
  errc multicast(std::string_view route, const T& value, const filter& f) {
    return broadcast_payload(route, encode_payload(format(), value), &f);
  }
  errc broadcast_payload(std::string_view route, std::string payload, const filter* f);

private:
  serializer_kind format() const;

  std::string name_;
  mutable std::mutex mu_;
  bool closed_ = false;
  std::map<std::int64_t, session> members_; // by session id
};

} // namespace nanocaf
