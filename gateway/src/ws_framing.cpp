#include "detail/ws_framing.hpp"

#include <algorithm>

#include "nanocaf/codec/websocket.hpp"

namespace nanocaf::detail {

namespace {

// Close codes (RFC 6455 section 7.4.1).
constexpr std::uint16_t close_normal = 1000, close_protocol_error = 1002, close_too_big = 1009;

std::size_t header_size(const unsigned char* h) {
  std::size_t len7 = h[1] & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

} // namespace

std::string ws_framing::frame(std::uint8_t opcode, std::string_view payload) {
  std::string out;
  codec::append_websocket_frame(opcode, payload, out);
  return out;
}

std::string ws_framing::close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  return frame(op_close, payload);
}

void ws_framing::fail(output& out, std::uint16_t code, const std::string& why) {
  out.replies += close_frame(code);
  out.closing = true;
  out.reason = "websocket: " + why;
  done_ = true;
}

bool ws_framing::start_frame(output& out) {
  const unsigned char* h = header_;
  fin_ = (h[0] & 0x80) != 0;
  opcode_ = h[0] & 0x0F;
  if (h[0] & 0x70) {
    fail(out, close_protocol_error, "reserved bits set (no extension was agreed)");
    return false;
  }
  if (!(h[1] & 0x80)) {
    fail(out, close_protocol_error, "unmasked client frame");
    return false;
  }
  std::uint64_t len = h[1] & 0x7F;
  std::size_t at = 2;
  if (len == 126) {
    len = (std::uint64_t{h[2]} << 8) | h[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | h[2 + i];
    at = 10;
    if (len >> 63) {
      fail(out, close_protocol_error, "frame length out of range");
      return false;
    }
  }
  std::copy(h + at, h + at + 4, mask_);
  mask_pos_ = 0;
  remaining_ = len;
  switch (opcode_) {
    case op_continuation:
      if (!in_message_) {
        fail(out, close_protocol_error, "continuation frame outside a message");
        return false;
      }
      break;
    case op_text:
    case op_binary:
      if (in_message_) {
        fail(out, close_protocol_error, "new message inside a fragmented one");
        return false;
      }
      in_message_ = true;
      message_size_ = 0;
      break;
    case op_close:
    case op_ping:
    case op_pong:
      if (!fin_ || len > 125) {
        fail(out, close_protocol_error, "fragmented or long control frame");
        return false;
      }
      control_.clear();
      break;
    default:
      fail(out, close_protocol_error, "unknown opcode " + std::to_string(opcode_));
      return false;
  }
  if (opcode_ < op_close) {
    message_size_ += len;
    if (message_size_ > max_message_) {
      fail(out, close_too_big, "message over " + std::to_string(max_message_) + " bytes");
      return false;
    }
  }
  in_frame_ = true;
  return true;
}

void ws_framing::end_frame(output& out) {
  in_frame_ = false;
  header_len_ = 0;
  switch (opcode_) {
    case op_continuation:
    case op_text:
    case op_binary:
      if (fin_)
        in_message_ = false;
      return;
    case op_ping:
      ++out.control_frames;
      out.replies += frame(op_pong, control_);
      return;
    case op_pong:
      ++out.control_frames;
      return; // we send no pings: nothing to match
    case op_close: {
      // Echo the peer's code (RFC 6455 5.5.1), then the connection ends. A one-byte payload
      // or a code no endpoint may send (7.4) is answered with 1002.
      std::uint16_t code = close_normal;
      if (control_.size() >= 2)
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8)
                                          | static_cast<unsigned char>(control_[1]));
      bool reserved = code < 1000 || code == 1004 || code == 1005 || code == 1006
                      || (code >= 1016 && code < 3000) || code > 4999;
      if (control_.size() == 1 || reserved)
        code = close_protocol_error;
      out.replies += close_frame(code);
      out.closing = true;
      out.reason = "peer closed";
      done_ = true;
      return;
    }
    default:
      return;
  }
}

void ws_framing::feed(char* bytes, std::size_t n, output& out) {
  std::size_t i = 0;
  while (!done_) {
    if (!in_frame_) {
      // Gather the header: 2 bytes tell how long the rest of it is.
      std::size_t need = header_len_ < 2 ? 2 : header_size(header_);
      while (header_len_ < need && i < n) {
        header_[header_len_++] = static_cast<unsigned char>(bytes[i++]);
        if (header_len_ == 2)
          need = header_size(header_);
      }
      if (header_len_ < need)
        return; // the rest of the header comes later
      if (!start_frame(out))
        return;
      if (remaining_ == 0) {
        end_frame(out);
        continue;
      }
    }
    if (i == n)
      return;
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
    char* p = bytes + i;
    for (std::size_t k = 0; k < take; ++k)
      p[k] = static_cast<char>(p[k] ^ mask_[(mask_pos_ + k) & 3]);
    mask_pos_ = (mask_pos_ + take) & 3;
    if (opcode_ < op_close)
      out.data.emplace_back(p, take);
    else
      control_.append(p, take);
    i += take;
    remaining_ -= take;
    if (remaining_ == 0)
      end_frame(out);
  }
}

} // namespace nanocaf::detail
