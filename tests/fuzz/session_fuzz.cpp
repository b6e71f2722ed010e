// libFuzzer target for one session's state machine, through the real runtime: arbitrary bytes
// arrive as a connection would deliver them (decoded into packets in input-chosen chunks) to a
// session whose component answers, pushes, binds, kicks, closes and throws. Besides "no crash
// and no leak under ASan", every session must end once its connection closes: sessions that
// never finish would be a leak of actors, so the target traps when they pile up.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "nanocaf/component.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/runtime.hpp"
#include "nanocaf/validators.hpp"
#include "nanocaf/wiring/runtime.hpp"

using namespace nanocaf;

namespace {

// What the session writes: counted, never stored.
class null_outlet final : public outlet {
public:
  void send(shared_bytes packet) override { bytes_ += packet->size(); }
  void kick(shared_bytes packet) override { bytes_ += packet->size(); }
  void close() override {}
  const std::string& remote_address() const override { return address_; }

private:
  std::atomic<std::size_t> bytes_{0};
  std::string address_{"fuzz"};
};

struct move_request {
  int x = 0;
  int y = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(move_request, x, y)

class game final : public component {
public:
  void setup() override {
    handle("echo", [](session&, const bytes& b) { return b; });
    handle("move", [](session& s, const move_request& m) {
      s.push("onMoved", nlohmann::json{{"x", m.x}, {"y", m.y}});
      return nlohmann::json{{"code", 0}};
    });
    handle("bind", [](session& s, const nlohmann::json& j) {
      s.bind(j.value("uid", 0));
      s.set("name", j.value("name", std::string{}));
      return nlohmann::json{{"uid", s.uid()}};
    });
    handle("kick", [](session& s, const bytes&) { s.kick("fuzz"); });
    handle("close", [](session& s, const bytes&) { s.close(); });
    handle("fail", [](session&, const bytes&) -> nlohmann::json { throw std::runtime_error("x"); });
    handle("deny", [](session&, const bytes&) -> nlohmann::json { throw handler_error(403, "no"); });
  }
};

runtime& node() {
  static runtime* rt = [] {
    log::set_level(log::level::error); // a line per refused session would only slow it down
    runtime_options o;
    o.heartbeat = std::chrono::hours(1); // time plays no part: the input decides everything
    o.handshake_timeout = std::chrono::hours(1);
    o.worker_threads = 1;
    o.scheduler_policy = "sharing";
    o.dictionary = codec::route_dictionary{{"game.echo", 1}, {"game.move", 2}, {"onMoved", 3}};
    o.validator = require_client_version("1.0"); // handshakes without sys.version are refused
    o.max_inflight_bytes = 64 * 1024;
    o.rate_limit = 100000; // exercised by long inputs only
    auto* r = new runtime(o); // lives until the process ends: libFuzzer never returns
    r->add<game>(with_name("game"));
    r->start();
    return r;
  }();
  return *rt;
}

// Sessions still open after their connections closed must drain: wait, or trap.
void drain(runtime& rt) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rt.live_sessions() != 0) {
    if (std::chrono::steady_clock::now() > until)
      __builtin_trap(); // a session outlived its connection
    std::this_thread::yield();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::size_t runs = 0;
  auto& rt = node();
  auto in = wiring::open_session(rt, std::make_shared<null_outlet>());
  codec::stream_decoder decoder{64 * 1024};
  // The first byte picks the chunk size, so packets split across reads like on a socket.
  std::size_t chunk = size == 0 ? 1 : 1 + data[0] % 64;
  std::size_t off = size == 0 ? 0 : 1;
  while (off < size) {
    auto n = std::min(chunk, size - off);
    std::vector<codec::packet> packets;
    auto err = decoder.feed({reinterpret_cast<const char*>(data + off), n}, packets);
    if (!packets.empty())
      in->deliver(packets);
    if (err != codec::error::none) {
      in->failed(codec::to_string(err));
      break;
    }
    off += n;
  }
  in->closed("input ended");
  if (++runs % 128 == 0)
    drain(rt);
  return 0;
}
