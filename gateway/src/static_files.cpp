#include "detail/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace nanocaf::detail {

namespace {

// realpath(3) into a std::string; empty when the path does not resolve.
std::string real_path(const std::string& p) {
  std::unique_ptr<char, void (*)(void*)> r{::realpath(p.c_str(), nullptr), std::free};
  return r ? std::string{r.get()} : std::string{};
}

bool inside(const std::string& path, const std::string& root) {
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0
         && (root.back() == '/' || path[root.size()] == '/');
}

} // namespace

static_lookup find_static_file(const std::string& folder, std::string_view relative,
                               std::uint64_t max_size) {
  static_lookup out;
  if (relative.find("..") != std::string_view::npos || relative.find('\0') != std::string_view::npos)
    return out;
  auto root = real_path(folder);
  if (root.empty())
    return out;
  std::string wanted = root + "/" + std::string{relative};
  bool folder_asked = relative.empty() || relative.back() == '/';
  if (folder_asked)
    wanted += "index.html";
  auto real = real_path(wanted);
  if (real.empty() || !inside(real, root))
    return out; // missing, or a link that leads out of the folder
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
  int fd = ::open(real.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return out;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return out;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    if (!folder_asked)
      out.result = static_lookup::outcome::redirect_to_folder;
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return out;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    ::close(fd);
    out.result = static_lookup::outcome::too_large;
    return out;
  }
  // Reads of a regular file never wait for a peer; the flag only mattered for the open.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  out.result = static_lookup::outcome::file;
  out.fd = fd;
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.path = std::move(real);
  return out;
}

} // namespace nanocaf::detail
