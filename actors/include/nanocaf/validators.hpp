// Ready-made handshake validators (runtime_options::validator). A refused client is closed
// without a reply, as nano does, and the refusal is logged with the session and address.
//
//   opts.validator = nanocaf::all_of({
//     nanocaf::require_client_version("1.2.0"),
//     nanocaf::require_token([](const nanocaf::session& s, const std::string& token) {
//       return tokens.valid(token);     // e.g. a signed login ticket
//     }),
//   });
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nanocaf/runtime.hpp"

namespace nanocaf {

/// Refuses a client whose handshake `sys.version` is missing or below `minimum`. Versions are
/// dotted numbers compared part by part ("1.10" > "1.9"; missing parts count as 0).
handshake_validator require_client_version(std::string minimum);

/// Refuses a client whose handshake has no string `user.token`, or whose token `accept`
/// rejects. `accept` runs on the session's actor (do not block in it); it may keep what it
/// learns in the session (`s.set("user", ...)`).
handshake_validator require_token(
  std::function<bool(const session& s, const std::string& token)> accept);

/// Runs `validators` in order; the first refusal wins.
handshake_validator all_of(std::vector<handshake_validator> validators);

/// -1, 0 or 1 as dotted version `a` is below, equal to or above `b`; non-numeric parts count
/// as 0.
int compare_versions(const std::string& a, const std::string& b);

} // namespace nanocaf
