#include "nanocaf/codec/websocket.hpp"

// SHA1_Init and friends are deprecated in OpenSSL 3 in favour of EVP, but the EVP path (and
// the one-shot SHA1(), built on it) loads OpenSSL's provider machinery on first use: 2 MB of
// resident memory for one 20-byte digest per handshake, and an algorithm fetch per call.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace nanocaf::codec {

namespace {
// The first byte, then the payload length in its shortest form, with the mask bit as given.
void append_frame_head(std::uint8_t first, bool masked, std::size_t n, std::string& out) {
  const auto mask_bit = static_cast<std::uint8_t>(masked ? 0x80 : 0x00);
  out.push_back(static_cast<char>(first));
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
}
} // namespace

void append_websocket_frame(std::uint8_t opcode, std::string_view payload, std::string& out) {
  out.reserve(out.size() + payload.size() + 10);
  append_frame_head(static_cast<std::uint8_t>(0x80 | opcode), false, payload.size(), out);
  out.append(payload);
}

void append_masked_websocket_frame(std::uint8_t opcode, std::string_view payload,
                                   std::uint32_t mask, std::string& out, bool fin) {
  out.reserve(out.size() + payload.size() + 14);
  append_frame_head(static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | opcode), true,
                    payload.size(), out);
  const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                       static_cast<char>(mask >> 8), static_cast<char>(mask)};
  out.append(key, 4);
  const auto start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ key[i & 3]);
}

std::string websocket_accept(std::string_view key) {
  std::string text{key};
  text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA_CTX sha;
  SHA1_Init(&sha);
  SHA1_Update(&sha, text.data(), text.size());
  SHA1_Final(digest, &sha);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return {reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n)};
}

} // namespace nanocaf::codec
