// Byte types shared by the runtime and the gateway.
#pragma once

#include <memory>
#include <string>

namespace nanocaf {

/// An encoded packet, immutable once built: one buffer can go to many connections (broadcast).
using shared_bytes = std::shared_ptr<const std::string>;

/// A raw payload: a handler taking `bytes` gets the message payload unchanged, and a `bytes`
/// value pushed or returned is sent unchanged (no serializer), like nano's []byte.
struct bytes {
  std::string data;
};

} // namespace nanocaf
