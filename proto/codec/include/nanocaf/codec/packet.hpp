// Packet layer of nano's (pomelo "hybrid") protocol: 1 byte type, 3 bytes big-endian body length,
// then the body. Spec sections 1.2 and 1.3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nanocaf/codec/error.hpp"

namespace nanocaf::codec {

enum class packet_type : std::uint8_t {
  handshake = 0x01,
  handshake_ack = 0x02,
  heartbeat = 0x03,
  data = 0x04,
  kick = 0x05,
};

inline constexpr std::size_t packet_header_size = 4;
/// nano's decoder refuses bodies longer than this; exactly 64 KiB is allowed.
inline constexpr std::size_t default_max_packet_body = 65536;
/// What the 3-byte length field can hold: the encoder refuses anything longer.
inline constexpr std::size_t max_encodable_body = 0xFFFFFF;

constexpr bool is_valid_packet_type(std::uint8_t t) noexcept { return t >= 0x01 && t <= 0x05; }

/// One decoded packet; the body is owned (nano's decoder aliased its buffer, spec 1.3).
struct packet {
  packet_type type = packet_type::heartbeat;
  std::string body;
};

/// Writes the 4-byte header for a body of `body_size` bytes at `out` (which must hold 4 bytes).
/// Returns error::body_too_large when the size does not fit in 3 bytes.
error write_packet_header(packet_type type, std::size_t body_size, char* out) noexcept;

/// Appends header and body to `out`. Refuses types outside 1..5 and bodies over 0xFFFFFF bytes.
error encode_packet(std::uint8_t type, std::string_view body, std::string& out);
inline error encode_packet(packet_type type, std::string_view body, std::string& out) {
  return encode_packet(static_cast<std::uint8_t>(type), body, out);
}

/// Turns a byte stream into packets. Keeps only the unfinished tail between calls, so an idle
/// connection holds no buffer. After an error the decoder must not be fed again: the caller
/// closes the connection (the packets decoded before the error are still handed out).
class stream_decoder {
public:
  explicit stream_decoder(std::size_t max_body = default_max_packet_body) : max_body_(max_body) {}

  /// Decodes as many whole packets as `bytes` completes and appends them to `out`.
  error feed(std::string_view bytes, std::vector<packet>& out);

  /// Bytes held for a packet that is not complete yet.
  std::size_t buffered() const noexcept { return tail_.size(); }

private:
  // Parses whole packets from `in`; returns how many bytes were consumed.
  std::size_t parse(std::string_view in, std::vector<packet>& out, error& err);

  std::size_t max_body_;
  std::string tail_;
};

} // namespace nanocaf::codec
