// The cluster suites' fixture: cluster-test-node processes on 127.0.0.1 with real gRPC, a
// client of a gate, and helpers to wait and call.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/http_get.hpp"
#include "support/test_client.hpp"

namespace nanocaf::test {

using json = nlohmann::json;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// 127.0.0.1:port (0: any port).
inline sockaddr_in loopback(std::uint16_t port = 0) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A port for a node to listen on: below the ephemeral range (32768 and up), so that no
// outgoing connection of this or a parallel test takes it between this choice and the
// node's bind; random, so that parallel tests rarely pick the same one; never twice here.
inline std::uint16_t free_port() {
  static std::mt19937 rng{std::random_device{}()};
  static std::set<std::uint16_t> given;
  std::uniform_int_distribution<int> pick{20000, 32000};
  for (;;) {
    auto port = static_cast<std::uint16_t>(pick(rng));
    if (given.count(port) != 0)
      continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(port);
    bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) {
      given.insert(port);
      return port;
    }
  }
}

inline bool port_open(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = 8s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

inline std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A series of the node's /metrics page, 0 if absent.
inline double metric(std::uint16_t metrics_port, const std::string& series) {
  auto page = http_get(metrics_port, "/metrics").body;
  auto at = page.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(page.substr(at + series.size() + 2));
}

// One cluster-test-node process; SIGTERM (then SIGKILL) when destroyed.
class node_process {
public:
  node_process(const std::string& service, std::uint16_t grpc_port, bool master,
               std::uint16_t master_port, std::uint16_t tcp_port = 0,
               const std::vector<std::string>& extra = {})
    : grpc_port_(grpc_port) {
    std::vector<std::string> args{NANOCAF_TEST_NODE, "--service", service, "--listen",
                                  addr(grpc_port), "--role", master ? "master" : "member",
                                  "--master", addr(master_port)};
    args.insert(args.end(), extra.begin(), extra.end());
    log_ = ::testing::TempDir() + "cluster-" + service + "-" + std::to_string(grpc_port) + ".log";
    if (tcp_port != 0) {
      args.push_back("--tcp");
      args.push_back(addr(tcp_port));
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    EXPECT_TRUE(eventually([&] { return port_open(grpc_port_); }, 10s)) << service << " did not start";
    if (tcp_port != 0)
      EXPECT_TRUE(eventually([&] { return port_open(tcp_port); }, 10s));
  }
  // A node that crashed, or whose sanitizers reported something, fails the test: its output
  // goes to its log, which nothing else reads when all went well.
  ~node_process() {
    stop();
    auto text = log();
    bool reported = text.find("ERROR: AddressSanitizer") != std::string::npos
                    || text.find("ERROR: LeakSanitizer") != std::string::npos
                    || text.find("runtime error:") != std::string::npos;
    bool crashed = WIFSIGNALED(status_) && WTERMSIG(status_) != SIGKILL
                   && WTERMSIG(status_) != SIGTERM;
    if (reported || crashed)
      ADD_FAILURE() << "node " << log_ << (crashed ? " crashed" : " reported errors")
                    << "; its log:\n" << text;
  }

  /// What the node has logged so far.
  std::string log() const {
    std::ifstream in{log_};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  /// True when the process ends within `limit` (it is then reaped).
  bool exits_within(std::chrono::milliseconds limit) {
    return eventually([&] {
      if (pid_ <= 0 || ::waitpid(pid_, &status_, WNOHANG) != pid_)
        return pid_ <= 0;
      pid_ = -1;
      return true;
    }, limit);
  }

  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }
  /// Resident memory in KiB (VmRSS), 0 when the process is gone.
  long rss_kib() const {
    std::ifstream in{"/proc/" + std::to_string(pid_) + "/status"};
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0)
        return std::stol(line.substr(6));
    return 0;
  }
  void kill_now() {
    signal(SIGKILL);
    reap();
  }
  void stop() {
    if (pid_ <= 0)
      return;
    signal(SIGCONT);
    signal(SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    kill_now();
  }

private:
  void reap() {
    if (pid_ > 0)
      ::waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
  std::uint16_t grpc_port_;
  std::string log_;
  int status_ = 0; // as waitpid gave it
  pid_t pid_ = -1;
};

class Cluster : public ::testing::Test {
protected:
  std::uint16_t master_port = free_port();
  std::vector<std::string> node_args; // given to every node this fixture starts

  std::unique_ptr<node_process> start(const std::string& service, bool master = false,
                                      std::uint16_t tcp = 0, std::uint16_t port = 0,
                                      std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), node_args.begin(), node_args.end());
    return std::make_unique<node_process>(service, port ? port : (master ? master_port : free_port()),
                                          master, master_port, tcp, extra);
  }

  static std::unique_ptr<test_client> client(std::uint16_t tcp) {
    auto c = test_client::connect_tcp(tcp);
    c->handshake_and_ack();
    return c;
  }

  static std::optional<json> call(test_client& c, const std::string& route, const std::string& body,
                                  ms timeout = 3s) {
    auto id = c.request(route, body);
    auto m = c.response(id, timeout);
    if (!m)
      return std::nullopt;
    return json::parse(m->payload, nullptr, false);
  }

  // master (MasterComponent), a backend (GameComponent) and a gate (GateComponent) with a
  // client connected to it, once the gate knows the other two.
  struct trio {
    std::unique_ptr<node_process> master, game, gate;
    std::unique_ptr<test_client> client;
  };
  trio start_trio(std::uint16_t game_port = 0) {
    trio t;
    std::uint16_t tcp = free_port();
    t.master = start("MasterComponent", true);
    t.game = start("GameComponent", false, 0, game_port);
    t.gate = start("GateComponent", false, tcp);
    t.client = client(tcp);
    EXPECT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "MasterComponent"}));
    return t;
  }

  // Requests, notifies, pushes and responses of a client of the gate, served by the backend.
  static void serve_through_the_gate(test_client& c) {
    auto id = c.request("GameComponent.echo", "over grpc");
    auto m = c.response(id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload, "over grpc");
    auto pushes = c.request("GameComponent.push", R"({"n":3})");
    for (int i = 0; i < 3; ++i) {
      auto p = c.push("onPush");
      ASSERT_TRUE(p);
      EXPECT_EQ(json::parse(p->payload)["i"], i); // in order, through the gate
    }
    EXPECT_TRUE(c.response(pushes));
    auto bound = call(c, "GameComponent.bind", R"({"uid":42})");
    ASSERT_TRUE(bound);
    EXPECT_EQ((*bound)["uid"], 42);
    // Unknown service anywhere in the cluster: an error reply, not silence.
    auto missing = call(c, "Nobody.echo", "");
    ASSERT_TRUE(missing);
    EXPECT_EQ((*missing)["code"], 404);
    // Notifies keep their order with the requests of the same session.
    for (int i = 0; i < 20; ++i)
      c.notify("GameComponent.echo", "n");
    auto last = call(c, "GameComponent.echo", R"("done")");
    EXPECT_TRUE(last);
  }

  // Waits until `route` (a "members" handler) reports exactly `services`.
  static bool sees(test_client& c, const std::string& route, const std::vector<std::string>& services) {
    return eventually([&] {
      auto r = call(c, route, "");
      return r && (*r)["services"] == json(services);
    });
  }
};

} // namespace nanocaf::test
