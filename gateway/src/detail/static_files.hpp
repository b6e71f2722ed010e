// Which file, if any, a request under the static prefix may read. Only regular files whose
// real path (every symlink resolved) lies inside the real web folder are served: a link to
// "/" or to /dev/zero, a FIFO or a device in the folder gets nothing. The file is opened here,
// non-blocking and without following a last symlink, so what is served is what was checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nanocaf::detail {

struct static_lookup {
  enum class outcome { file, redirect_to_folder, not_found, too_large };
  outcome result = outcome::not_found;
  int fd = -1;            // outcome::file: an open descriptor the caller now owns
  std::uint64_t size = 0; // outcome::file
  std::string path;       // outcome::file: the real path (for the MIME type and logs)
};

/// `relative` is the request path after the static prefix ("" or ending in '/' means that
/// folder's index.html). Files over `max_size` bytes are refused (too_large).
static_lookup find_static_file(const std::string& folder, std::string_view relative,
                               std::uint64_t max_size);

} // namespace nanocaf::detail
