#include "nanocaf/cluster/cluster.hpp"

#include <mutex>
#include <stdexcept>

#include <thread>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include "detail/actors.hpp"
#include "detail/services.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/proto/cluster.grpc.pb.h"
#include "nanocaf/wiring/runtime.hpp"
#include "remote_outlet.hpp"

namespace nanocaf::cluster {

namespace {

// The runtime's way into the cluster: called on session actors, it only sends to the member
// actor. The handle can be dropped at stop while sessions still call in.
class member_router final : public remote_router {
public:
  void attach(caf::actor member) {
    std::lock_guard<std::mutex> guard{mu_};
    member_ = std::move(member);
  }
  void detach() { attach(nullptr); }

  void forward(const session& origin, codec::message msg) override {
    if (auto m = handle())
      caf::anon_send(m, detail::forward_msg{origin, std::move(msg)});
  }
  void session_closed(const session& s) override {
    if (auto m = handle())
      caf::anon_send(m, detail::local_closed_atom::value, s.id());
  }
  void call(const std::optional<session>& client, codec::message msg,
            std::chrono::milliseconds timeout, call_handler done) override {
    if (auto m = handle())
      caf::anon_send(m, detail::call_out_msg{client, std::move(msg), timeout, std::move(done)});
    else
      done({503, "service unavailable", {}, {}});
  }

private:
  caf::actor handle() {
    std::lock_guard<std::mutex> guard{mu_};
    return member_;
  }
  std::mutex mu_;
  caf::actor member_;
};

} // namespace

struct node::impl {
  impl(runtime& r, options o)
    : rt(r), opts(std::move(o)), security(std::make_shared<detail::node_security>(opts)) {}

  runtime& rt;
  options opts;
  std::shared_ptr<const detail::node_security> security; // reads the TLS files: fails early
  std::shared_ptr<member_router> router = std::make_shared<member_router>();
  std::shared_ptr<detail::status_board> board = std::make_shared<detail::status_board>();
  caf::actor member;
  caf::actor master;
  std::unique_ptr<detail::inbound> inbound; // what the member, gate and relay services share
  std::unique_ptr<detail::member_service> member_svc;
  std::unique_ptr<detail::master_service> master_svc;
  std::unique_ptr<detail::gate_service> gate_svc;
  std::unique_ptr<detail::peer_service> peer_svc;
  std::unique_ptr<detail::relay_service> relay_svc;
  std::unique_ptr<grpc::Server> server;
  bool started = false;
  bool stopped = false;
};

namespace {

// Debian builds abseil without NDEBUG, which leaves absl::Mutex's deadlock detector on: every
// lock gRPC takes then updates a process-wide lock graph (GraphCycles::GetId and InsertEdge
// were 2 % of a loaded backend's samples in perf), and a cycle it suspects would abort the
// process. Release builds of abseil run without it; so do our nodes.
void turn_off_abseil_deadlock_detector() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

} // namespace

node::node(runtime& rt, options opts) : impl_(std::make_unique<impl>(rt, std::move(opts))) {
  auto& o = impl_->opts;
  if (o.service_address.empty())
    throw std::invalid_argument("cluster: the node needs a service address");
  if (!o.is_master && o.master_address.empty())
    throw std::invalid_argument("cluster: a member needs the master's address");
  wiring::set_remote_router(rt, impl_->router);
}

node::~node() { stop(); }

void node::start() {
  auto& d = *impl_;
  if (d.started)
    return;
  d.started = true;
  if (d.opts.quiet_abseil_deadlock_detector)
    turn_off_abseil_deadlock_detector();
  if (d.opts.secret.empty() && !d.security->tls())
    log::warn("cluster: no secret and no TLS on ", d.opts.service_address,
              ": anyone who can reach this address can join the cluster as a member, receive and "
              "answer clients' requests, push to or kick any client and call any handler (nano's "
              "way). Set cluster::options::secret or TLS (--secret, --secret-file, --cluster-tls-* "
              "in the bundled programs) unless this cluster has nano's Go nodes");
  member_info self{d.opts.label, d.opts.service_address, d.rt.services()};
  d.member = detail::spawn_member(d.rt, d.opts, self, d.board, d.security);
  d.router->attach(d.member);
  d.inbound = std::make_unique<detail::inbound>(d.rt, d.member);
  d.member_svc = std::make_unique<detail::member_service>(*d.inbound, d.security);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(d.opts.service_address, d.security->server_credentials(), &port);
  // Every service is registered before the server starts (nano registers late: spec 9.1 #8).
  builder.RegisterService(d.member_svc.get());
  d.gate_svc = std::make_unique<detail::gate_service>(*d.inbound, d.security);
  builder.RegisterService(d.gate_svc.get());
  d.relay_svc = std::make_unique<detail::relay_service>(*d.inbound, d.security);
  builder.RegisterService(d.relay_svc.get());
  d.peer_svc = std::make_unique<detail::peer_service>(d.rt, d.member, d.security);
  builder.RegisterService(d.peer_svc.get());
  if (d.opts.is_master) {
    d.master = detail::spawn_master(d.rt.system(), d.opts, self, d.member, d.rt.metrics(),
                                    d.security, d.board->channels);
    d.master_svc = std::make_unique<detail::master_service>(d.master, d.security);
    builder.RegisterService(d.master_svc.get());
  }
  // What one peer, authenticated or not, can make this node hold: gRPC reads a unary call's
  // whole message before any handler (our secret check included) sees it, so the size and the
  // transport's memory are bounded here.
  builder.SetMaxReceiveMessageSize(static_cast<int>(d.opts.max_message_bytes));
  builder.SetResourceQuota(grpc::ResourceQuota("nanocaf-cluster").Resize(d.opts.receive_memory));
  d.server = builder.BuildAndStart();
  if (!d.server || port == 0)
    throw std::runtime_error("cluster: cannot serve gRPC on " + d.opts.service_address);
  log::info(d.opts.is_master ? "master" : "member", " serving the cluster protocol on ",
            d.opts.service_address);
  caf::anon_send(d.member, detail::start_atom::value);
}

namespace {

// Waits until the requests other nodes sent here are answered and every call to another node
// (those answers among them) has completed, or drain_timeout passes.
template <class Impl>
void drain(Impl& d) {
  auto& board = *d.board;
  auto until = std::chrono::steady_clock::now() + d.opts.drain_timeout;
  auto busy = [&] {
    return board.requests_in_flight.load(std::memory_order_acquire) > 0
           || board.calls_in_flight->load(std::memory_order_acquire) > 0;
  };
  while (busy() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (busy())
    log::warn("stopping with ", board.requests_in_flight.load(), " request(s) unanswered and ",
              board.calls_in_flight->load(), " call(s) to other nodes unfinished after ",
              d.opts.drain_timeout.count(), " ms");
}

// Ends the master and member actors (and with them their bridges), waits until every bridge is
// gone and every call it started has completed, then drops their channels on this thread (see
// channel_keeper: never on one of gRPC's).
template <class Impl>
void stop_actors(Impl& d) {
  auto limit = d.opts.rpc_timeout + std::chrono::seconds(1); // calls end by their deadline
  {
    caf::scoped_actor self{d.rt.system()};
    std::vector<caf::actor> actors{d.member};
    if (d.master)
      actors.push_back(d.master);
    for (auto& a : actors) {
      self->monitor(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
    }
    for (std::size_t i = 0; i < actors.size(); ++i)
      self->receive([](const caf::down_msg&) {}, caf::after(limit) >> [] {});
  }
  d.master = nullptr;
  d.member = nullptr;
  if (!d.board->channels->wait_until_unused(limit))
    log::warn("stopping with calls to other nodes still open after ", limit.count(), " ms");
  d.board->channels->release();
}

} // namespace

void node::stop() {
  auto& d = *impl_;
  if (!d.started || d.stopped)
    return;
  d.stopped = true;
  if (!d.opts.is_master) {
    // Leave cleanly (blocking calls are fine here: this is not an actor). Heartbeats stop
    // first, or one in flight could make the master take us back after the Unregister.
    caf::scoped_actor self{d.rt.system()};
    self->request(d.member, d.opts.rpc_timeout, detail::leaving_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
    auto channel = grpc::CreateChannel(d.opts.master_address, d.security->channel_credentials());
    auto stub = clusterpb::Master::NewStub(channel);
    grpc::ClientContext ctx;
    d.security->sign(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + d.opts.rpc_timeout);
    clusterpb::UnregisterRequest req;
    req.set_serviceaddr(d.opts.service_address);
    clusterpb::UnregisterResponse resp;
    if (auto st = stub->Unregister(&ctx, req, &resp); !st.ok())
      log::warn("unregister from master failed: ", st.error_message());
    else
      log::debug("stopping: unregistered from the master");
  }
  drain(d);
  log::debug("stopping: drained");
  d.router->detach();
  if (d.inbound) {
    // From here requests and notifies from other nodes are refused (UNAVAILABLE: their gates
    // answer the clients). Those accepted just before may still wait in the member actor's
    // mailbox, not yet counted as in flight: a round trip behind them, then drain again.
    d.inbound->detach();
    caf::scoped_actor self{d.rt.system()};
    self->request(d.member, d.opts.rpc_timeout, detail::leaving_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
    drain(d);
    log::debug("stopping: inbound detached and drained");
  }
  if (d.server)
    d.server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  log::debug("stopping: gRPC server shut down");
  if (d.master_svc)
    d.master_svc->detach();
  if (d.peer_svc)
    d.peer_svc->detach();
  stop_actors(d);
}

std::vector<member_info> node::members() const {
  std::lock_guard<std::mutex> guard{impl_->board->mu};
  return impl_->board->members;
}

bool node::registered() const {
  std::lock_guard<std::mutex> guard{impl_->board->mu};
  return impl_->board->registered;
}

std::size_t node::remote_sessions() const {
  std::lock_guard<std::mutex> guard{impl_->board->mu};
  return impl_->board->remote_sessions;
}

} // namespace nanocaf::cluster
