#include "nanocaf/codec/websocket.hpp"

// SHA1_Init and friends are deprecated in OpenSSL 3 in favour of EVP, but the EVP path (and
// the one-shot SHA1(), built on it) loads OpenSSL's provider machinery on first use: 2 MB of
// resident memory for one 20-byte digest per handshake, and an algorithm fetch per call.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace nanocaf::codec {

void append_websocket_frame(std::uint8_t opcode, std::string_view payload, std::string& out) {
  auto n = payload.size();
  out.reserve(out.size() + n + 10);
  out.push_back(static_cast<char>(0x80 | opcode));
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  out.append(payload);
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
