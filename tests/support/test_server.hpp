// A real node for tests: runtime + gateway on 127.0.0.1 with ephemeral TCP and WebSocket
// ports, and a probe component whose handlers exercise the session and group API.
#pragma once

#include <atomic>
#include <memory>

#include "nanocaf/component.hpp"
#include "nanocaf/gateway/gateway.hpp"
#include "nanocaf/group.hpp"
#include "nanocaf/runtime.hpp"

namespace nanocaf::test {

struct point {
  int x = 0;
  int y = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(point, x, y)

class probe : public component {
public:
  std::atomic<int> notifies{0};
  std::atomic<int> sessions_closed{0};
  std::atomic<int> session_callbacks{0};
  group members{"probe"};

  void setup() override;
  void after_init() override;
};

struct server_config {
  runtime_options runtime;
  gateway_options gateway;
  server_config();
};

class test_server {
public:
  explicit test_server(server_config cfg = {});
  ~test_server();

  std::uint16_t tcp_port() const { return gate_->tcp_port(); }
  std::uint16_t ws_port() const { return gate_->ws_port(); }
  probe& probe_component() { return *probe_; }
  runtime& rt() { return *rt_; }
  gateway& gate() { return *gate_; }

private:
  std::unique_ptr<runtime> rt_;
  std::shared_ptr<probe> probe_;
  std::unique_ptr<gateway> gate_;
};

} // namespace nanocaf::test
