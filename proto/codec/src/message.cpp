#include "nanocaf/codec/message.hpp"

#include "nanocaf/codec/packet.hpp"

namespace nanocaf::codec {

namespace {

constexpr std::uint8_t route_compressed_bit = 0x01;
constexpr std::size_t max_varint_bytes = 10; // 64 bits in 7-bit groups

void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint at `pos`; false when it is not terminated inside `in` or overflows 64 bits.
bool get_varint(std::string_view in, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (std::size_t i = 0; i < max_varint_bytes && pos < in.size(); ++i) {
    auto byte = static_cast<std::uint8_t>(in[pos++]);
    if (i == max_varint_bytes - 1 && byte > 0x01)
      return false; // the 10th group may only hold the top bit
    v |= std::uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

} // namespace

const char* to_string(message_type t) noexcept {
  switch (t) {
    case message_type::request: return "request";
    case message_type::notify: return "notify";
    case message_type::response: return "response";
    case message_type::push: return "push";
  }
  return "unknown";
}

namespace {
// Decodes all but the payload; returns where the payload starts in `body`.
error decode_head(std::string_view body, const route_dictionary* dict, message& out,
                  std::size_t& payload_at) {
  if (body.size() < 2)
    return error::invalid_message;
  auto flag = static_cast<std::uint8_t>(body[0]);
  auto type_bits = (flag >> 1) & 0x07;
  if (type_bits > static_cast<int>(message_type::push))
    return error::wrong_message_type;
  out.type = static_cast<message_type>(type_bits);
  out.id = 0;
  out.route.clear();
  out.route_compressed = false;
  std::size_t pos = 1;
  if (has_id(out.type) && !get_varint(body, pos, out.id))
    return error::wrong_message;
  if (has_route(out.type)) {
    if (flag & route_compressed_bit) {
      if (body.size() - pos < 2)
        return error::wrong_message; // nano panics here (spec V12)
      auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(body[pos]) << 8)
                                             | static_cast<std::uint8_t>(body[pos + 1]));
      pos += 2;
      const std::string* route = dict ? dict->route_of(code) : nullptr;
      if (route == nullptr)
        return error::route_not_in_dictionary;
      out.route = *route;
      out.route_compressed = true;
    } else {
      if (pos >= body.size())
        return error::wrong_message;
      std::size_t len = static_cast<std::uint8_t>(body[pos++]);
      if (body.size() - pos < len)
        return error::wrong_message;
      out.route.assign(body.substr(pos, len));
      pos += len;
    }
  }
  payload_at = pos;
  return error::none;
}
} // namespace

error decode_message(std::string_view body, const route_dictionary* dict, message& out) {
  std::size_t at = 0;
  if (auto err = decode_head(body, dict, out, at); err != error::none)
    return err;
  out.payload.assign(body.substr(at));
  return error::none;
}

error decode_message(std::string&& body, const route_dictionary* dict, message& out) {
  std::size_t at = 0;
  if (auto err = decode_head(body, dict, out, at); err != error::none)
    return err;
  out.payload = std::move(body);
  out.payload.erase(0, at); // a few header bytes moved down instead of a new buffer
  return error::none;
}

error encode_message(message_type type, std::uint64_t id, std::string_view route,
                     std::string_view payload, const route_dictionary* dict, std::string& out) {
  std::optional<std::uint16_t> code;
  if (has_route(type)) {
    if (dict != nullptr)
      code = dict->code_of(route);
    if (!code && route.size() > max_route_length)
      return error::route_too_long;
  }
  auto flag = static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) << 1);
  if (code)
    flag |= route_compressed_bit;
  out.push_back(static_cast<char>(flag));
  if (has_id(type))
    put_varint(id, out);
  if (has_route(type)) {
    if (code) {
      out.push_back(static_cast<char>(*code >> 8));
      out.push_back(static_cast<char>(*code & 0xFF));
    } else {
      out.push_back(static_cast<char>(route.size()));
      out.append(route);
    }
  }
  out.append(payload);
  return error::none;
}

error encode_data_packet(message_type type, std::uint64_t id, std::string_view route,
                         std::string_view payload, const route_dictionary* dict,
                         std::string& out) {
  auto start = out.size();
  out.reserve(start + packet_header_size + 1 + max_varint_bytes + 1 + route.size()
              + payload.size());
  out.append(packet_header_size, '\0'); // patched once the body length is known
  if (auto err = encode_message(type, id, route, payload, dict, out); err != error::none) {
    out.resize(start);
    return err;
  }
  auto body_size = out.size() - start - packet_header_size;
  if (auto err = write_packet_header(packet_type::data, body_size, &out[start]);
      err != error::none) {
    out.resize(start);
    return err;
  }
  return error::none;
}

} // namespace nanocaf::codec
