#include "nanocaf/codec/packet.hpp"

namespace nanocaf::codec {

error write_packet_header(packet_type type, std::size_t body_size, char* out) noexcept {
  if (body_size > max_encodable_body)
    return error::body_too_large;
  out[0] = static_cast<char>(type);
  out[1] = static_cast<char>((body_size >> 16) & 0xFF);
  out[2] = static_cast<char>((body_size >> 8) & 0xFF);
  out[3] = static_cast<char>(body_size & 0xFF);
  return error::none;
}

error encode_packet(std::uint8_t type, std::string_view body, std::string& out) {
  if (!is_valid_packet_type(type))
    return error::wrong_packet_type;
  char header[packet_header_size];
  if (auto err = write_packet_header(static_cast<packet_type>(type), body.size(), header);
      err != error::none)
    return err;
  out.append(header, packet_header_size);
  out.append(body);
  return error::none;
}

std::size_t stream_decoder::parse(std::string_view in, std::vector<packet>& out, error& err) {
  std::size_t pos = 0;
  while (in.size() - pos >= packet_header_size) {
    auto type = static_cast<std::uint8_t>(in[pos]);
    std::size_t len = (std::size_t{static_cast<std::uint8_t>(in[pos + 1])} << 16)
                      | (std::size_t{static_cast<std::uint8_t>(in[pos + 2])} << 8)
                      | std::size_t{static_cast<std::uint8_t>(in[pos + 3])};
    // Like nano, a header is judged as soon as it is complete, before its body arrives.
    if (!is_valid_packet_type(type)) {
      err = error::wrong_packet_type;
      return pos;
    }
    if (len > max_body_) {
      err = error::packet_size_exceed;
      return pos;
    }
    if (in.size() - pos - packet_header_size < len)
      break; // wait for the rest of the body
    out.push_back(packet{static_cast<packet_type>(type),
                         std::string{in.substr(pos + packet_header_size, len)}});
    pos += packet_header_size + len;
  }
  return pos;
}

error stream_decoder::feed(std::string_view bytes, std::vector<packet>& out) {
  error err = error::none;
  if (tail_.empty()) {
    // Common case: whole packets in one read, parsed straight from the caller's buffer.
    auto used = parse(bytes, out, err);
    if (err == error::none && used < bytes.size())
      tail_.assign(bytes.substr(used));
    return err;
  }
  tail_.append(bytes);
  auto used = parse(tail_, out, err);
  if (err != error::none)
    return err;
  if (used == tail_.size())
    std::string{}.swap(tail_); // give the memory back: idle connections hold no buffer
  else
    tail_.erase(0, used);
  return err;
}

} // namespace nanocaf::codec
