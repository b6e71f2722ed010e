// The server side of WebSocket framing (RFC 6455 section 5), after the HTTP upgrade: masked
// client frames in, unmasked server frames out. Payloads are unmasked in place and handed on as
// they arrive, never gathered into messages: the packet decoder behind takes a byte stream
// (spec 1.1: packets may span or share messages). So an idle connection holds this small state
// and no buffer; Beast's stream would hold ~4 KB of buffers per client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nanocaf::detail {

class ws_framing {
public:
  /// `max_message`: a data message (all its fragments) longer than this closes with 1009;
  /// 0: no limit (as Beast's read_message_max).
  explicit ws_framing(std::uint64_t max_message)
    : max_message_(max_message == 0 ? UINT64_MAX : max_message) {}

  struct output {
    /// Payload bytes of data frames (binary or text, as nano takes both), in order; they point
    /// into the buffer given to feed().
    std::vector<std::string_view> data;
    /// Frames to send back: pongs, and the close frame answering the peer's or an error.
    std::string replies;
    /// The connection ends once `replies` are written: the peer closed, or broke the protocol.
    bool closing = false;
    std::string reason;
    /// Control frames the peer sent (pings, pongs): they count against its packet budget.
    std::size_t control_frames = 0;
  };

  /// Reads `n` bytes at `bytes` (unmasking them in place). After `closing`, nothing more is
  /// read.
  void feed(char* bytes, std::size_t n, output& out);

  /// A server frame: FIN set, unmasked.
  static std::string frame(std::uint8_t opcode, std::string_view payload);
  static std::string close_frame(std::uint16_t code, std::string_view reason = {});

  static constexpr std::uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2,
                                op_close = 0x8, op_ping = 0x9, op_pong = 0xA;

private:
  // Returns false when the header is refused (out.closing is then set).
  bool start_frame(output& out);
  void end_frame(output& out);
  void fail(output& out, std::uint16_t code, const std::string& why);

  const std::uint64_t max_message_;
  unsigned char header_[14];
  std::size_t header_len_ = 0;
  bool in_frame_ = false;      // the header is read; `remaining_` payload bytes follow
  std::uint64_t remaining_ = 0;
  std::uint8_t opcode_ = 0;
  bool fin_ = false;
  unsigned char mask_[4] = {};
  std::size_t mask_pos_ = 0;
  bool in_message_ = false;    // a fragmented data message has begun and not ended
  std::uint64_t message_size_ = 0;
  std::string control_;        // a control frame's payload (at most 125 bytes)
  bool done_ = false;
};

} // namespace nanocaf::detail
