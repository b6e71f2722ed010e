#include "ws_client_frames.hpp"

namespace nanocaf::bench {

namespace {
constexpr std::uint64_t max_frame = 16u << 20; // far above what a bench reply or push carries
}

ws_frame_reader::result ws_frame_reader::feed(std::string_view bytes, std::string& data,
                                              std::vector<std::string>& pings) {
  if (partial_.empty()) { // the usual case: whole frames, parsed where they were read
    auto r = parse(bytes, data, pings);
    partial_.assign(bytes);
    return r;
  }
  partial_.append(bytes);
  std::string_view rest{partial_};
  auto r = parse(rest, data, pings);
  partial_.erase(0, partial_.size() - rest.size());
  return r;
}

// Consumes the whole frames at the start of `bytes`.
ws_frame_reader::result ws_frame_reader::parse(std::string_view& bytes, std::string& data,
                                               std::vector<std::string>& pings) {
  while (bytes.size() >= 2) {
    const auto b0 = static_cast<std::uint8_t>(bytes[0]);
    const auto b1 = static_cast<std::uint8_t>(bytes[1]);
    if (b1 & 0x80)
      return result::bad; // a server must not mask (5.1)
    std::uint64_t size = b1 & 0x7F;
    std::size_t head = 2;
    if (size == 126) {
      if (bytes.size() < 4)
        break;
      size = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) | static_cast<std::uint8_t>(bytes[3]);
      head = 4;
    } else if (size == 127) {
      if (bytes.size() < 10)
        break;
      size = 0;
      for (std::size_t i = 2; i < 10; ++i)
        size = (size << 8) | static_cast<std::uint8_t>(bytes[i]);
      head = 10;
    }
    if (size > max_frame)
      return result::bad;
    if (bytes.size() - head < size)
      break;
    auto payload = bytes.substr(head, static_cast<std::size_t>(size));
    switch (static_cast<ws_opcode>(b0 & 0x0F)) {
      case ws_opcode::continuation:
      case ws_opcode::text:
      case ws_opcode::binary:
        data.append(payload);
        break;
      case ws_opcode::ping:
        pings.emplace_back(payload);
        break;
      case ws_opcode::pong:
        break;
      case ws_opcode::close:
        return result::closed;
      default:
        return result::bad;
    }
    bytes.remove_prefix(head + static_cast<std::size_t>(size));
  }
  return result::ok;
}

} // namespace nanocaf::bench
