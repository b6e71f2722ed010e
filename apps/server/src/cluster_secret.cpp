#include "cluster_secret.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>


namespace nanocaf::apps {

namespace {

std::string random_hex(std::size_t bytes) {
  std::ifstream in{"/dev/urandom", std::ios::binary};
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw std::runtime_error("cluster secret: cannot read /dev/urandom");
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

void make_folders(const std::string& path) {
  for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    if (::mkdir(path.substr(0, slash).c_str(), 0700) != 0 && errno != EEXIST)
      throw std::runtime_error("cluster secret: cannot create " + path.substr(0, slash) + ": "
                               + std::strerror(errno));
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

} // namespace

std::string default_secret_file() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string{xdg} + "/nanocaf/cluster-secret";
  const char* home = std::getenv("HOME");
  return std::string{home && *home ? home : "."} + "/.config/nanocaf/cluster-secret";
}

std::string read_or_create_secret(const std::string& path) {
  std::ifstream existing{path};
  if (!existing) {
    make_folders(path);
    // Written whole under a private name, then linked into place: a node starting at the
    // same moment either finds no file or the complete one, and the first link wins.
    auto tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
      throw std::runtime_error("cluster secret: cannot create " + tmp + ": " + std::strerror(errno));
    auto secret = random_hex(32) + "\n";
    bool written = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
    ::close(fd);
    if (written && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST)
      written = false;
    ::unlink(tmp.c_str());
    if (!written)
      throw std::runtime_error("cluster secret: cannot write " + path + ": " + std::strerror(errno));
    existing.open(path);
  }
  std::stringstream text;
  text << existing.rdbuf();
  auto secret = trimmed(text.str());
  if (secret.empty())
    throw std::runtime_error("cluster secret: " + path + " is empty");
  return secret;
}

std::string cluster_secret(const std::string& secret, bool nano_cluster, const std::string& file) {
  if (!secret.empty())
    return secret;
  if (nano_cluster)
    return {};
  return read_or_create_secret(file == "auto" ? default_secret_file() : file);
}

} // namespace nanocaf::apps
