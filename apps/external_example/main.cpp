// greeter: the smallest complete nanocaf server outside nanocaf's tree, on nanocaf::server. One
// component with two handlers; the server's flags give it clients and, with --listen and
// --master, a place in a cluster.
//   greeter --tcp 127.0.0.1:3251 --ws 127.0.0.1:3250 [--listen HOST:PORT --master HOST:PORT]
#include <iostream>
#include <string>

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/server.hpp>

struct hello_request {
  std::string name;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(hello_request, name)

class greeter : public nanocaf::component {
public:
  void setup() override {
    // greeter.hello {"name":"ann"} -> {"code":0,"greeting":"hello, ann"}; everyone who said
    // hello hears about the newcomer.
    handle("hello", [this](nanocaf::session& s, const hello_request& r) {
      lobby_.broadcast("onHello", nlohmann::json{{"name", r.name}});
      lobby_.add(s);
      return nlohmann::json{{"code", 0}, {"greeting", "hello, " + r.name}};
    });
    handle("count", [this](nanocaf::session&, const nanocaf::bytes&) {
      return nlohmann::json{{"code", 0}, {"count", lobby_.count()}};
    });
  }
  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { lobby_.leave(s); });
  }

private:
  nanocaf::group lobby_{"lobby"};
};

int main(int argc, char** argv) {
  nanocaf::server srv{{}, "greeter: the smallest complete nanocaf server outside nanocaf's tree"};
  srv.add<greeter>(nanocaf::with_name("greeter"));
  srv.on_started([](nanocaf::server& s) {
    std::cout << "greeter: tcp " << s.client_gateway()->tcp_port() << ", ws "
              << s.client_gateway()->ws_port() << std::endl;
  });
  return srv.run(argc, argv);
}
