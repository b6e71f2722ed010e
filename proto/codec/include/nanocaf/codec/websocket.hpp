// The pieces of RFC 6455 that both ends write: a server's frames and its upgrade answer, and a
// client's masked frames. Shared by the gateway, the bare-Asio bench ceiling (raw-echo), the load
// client (nanocaf-bench) and the tests' client, so all of them speak the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nanocaf::codec {

/// Appends one unmasked frame with FIN set (a server's frame, RFC 6455 5.2) to `out`.
void append_websocket_frame(std::uint8_t opcode, std::string_view payload, std::string& out);

/// Appends one frame masked with `mask` (a client's frame, RFC 6455 5.3) to `out`; `fin` false
/// for a fragment that more follow.
void append_masked_websocket_frame(std::uint8_t opcode, std::string_view payload,
                                   std::uint32_t mask, std::string& out, bool fin = true);

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string websocket_accept(std::string_view key);

} // namespace nanocaf::codec
