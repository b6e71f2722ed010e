// What a session writes to. The gateway implements it with a socket; a cluster member can
// implement it with the gRPC path back to the client's gate. Handlers cannot tell them apart.
#pragma once

#include <string>

#include "nanocaf/bytes.hpp"

namespace nanocaf {

class outlet {
public:
  virtual ~outlet() = default;

  /// Queues one whole encoded packet. Thread-safe and never blocks: a peer that does not read
  /// is closed when its queue bound is hit.
  virtual void send(shared_bytes packet) = 0;

  /// Writes what is queued, then `kick_packet`, then closes.
  virtual void kick(shared_bytes kick_packet) = 0;

  /// Closes at once; queued packets may be lost.
  virtual void close() = 0;

  virtual const std::string& remote_address() const = 0;
};

} // namespace nanocaf
