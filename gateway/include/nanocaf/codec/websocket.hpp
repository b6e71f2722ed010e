// The two pieces of RFC 6455 that a server writes: its frames and its upgrade answer. Shared by
// the gateway and the bare-Asio bench ceiling (raw-echo), so both speak the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nanocaf::codec {

/// Appends one unmasked frame with FIN set (a server's frame, RFC 6455 5.2) to `out`.
void append_websocket_frame(std::uint8_t opcode, std::string_view payload, std::string& out);

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string websocket_accept(std::string_view key);

} // namespace nanocaf::codec
