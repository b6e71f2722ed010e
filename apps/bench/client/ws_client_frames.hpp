// The server's frames as nanocaf-bench reads them once Beast has done the upgrade (what it
// sends, masked, comes from nanocaf/codec/websocket.hpp). The payloads of data frames are the
// protocol's packet stream, whatever the message boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nanocaf::bench {

enum class ws_opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

class ws_frame_reader {
public:
  enum class result { ok, closed, bad };

  /// Takes the bytes read; appends the payloads of data frames to `data`, and those of pings
  /// to `pings` (each to be answered by a pong with its payload). `closed`: the server sent
  /// a close frame; `bad`: a masked or oversized frame, or an unknown opcode.
  result feed(std::string_view bytes, std::string& data, std::vector<std::string>& pings);

private:
  result parse(std::string_view& bytes, std::string& data, std::vector<std::string>& pings);
  std::string partial_; // the start of a frame not yet whole
};

} // namespace nanocaf::bench
