// Hands an upgraded HTTPS connection to a WSS client connection (Beast's WebSocket stream over
// TLS). Kept free of Beast's WebSocket headers so that only ws_connection.cpp pays for them.
// Plain WebSocket clients are answered in http_session.cpp and run on our own framing.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "detail/gateway_context.hpp"

namespace nanocaf::detail {

/// Completes the WebSocket handshake for `req`, then runs the connection: one packet per
/// binary message out, a byte stream in (packets may span or share messages, spec 1.1).
void open_websocket(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                    boost::beast::http::request<boost::beast::http::string_body> req,
                    serial_executor ex, gateway_context& ctx);

} // namespace nanocaf::detail
