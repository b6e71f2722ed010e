#include "detail/peer.hpp"

#include <deque>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

namespace {

using done_atom = caf::atom_constant<caf::atom("peerdone")>;

// Calls one session may have waiting for a peer (membership calls share one queue too).
constexpr std::size_t max_queued_per_session = 4096;

struct peer_state {
  std::string address;
  stubs io;
  std::shared_ptr<std::atomic<std::int64_t>> in_flight; // may be null
  metrics::counter* ok = nullptr;
  metrics::counter* failed = nullptr;
  metrics::counter* refused = nullptr;
  metrics::histogram* seconds = nullptr;
  // Per session: the job in flight first, then the ones waiting for it.
  std::unordered_map<std::int64_t, std::deque<peer_job>> queues;
  // Jobs not tied to a session, in flight, by ticket.
  std::unordered_map<std::uint64_t, peer_job> loose;
  std::uint64_t next_ticket = 1;
  static inline const char* name = "nanocaf.peer";

  ~peer_state() {
    // The peer is gone (it left the cluster, or the node stops): nothing queued will be sent.
    for (auto& [sid, q] : queues)
      for (auto& job : q) {
        done_with_one();
        if (job.failed)
          job.failed("node " + address + " left the cluster");
      }
    for (auto& [ticket, job] : loose) {
      done_with_one();
      if (job.failed)
        job.failed("node " + address + " left the cluster");
    }
  }

  void took_one() {
    if (in_flight)
      in_flight->fetch_add(1, std::memory_order_acq_rel);
  }
  void done_with_one() {
    if (in_flight)
      in_flight->fetch_sub(1, std::memory_order_acq_rel);
  }
};

using self_ptr = caf::stateful_actor<peer_state>*;

// `key` is a session id (> 0) or a negative ticket for a loose job.
void launch(self_ptr self, peer_job& job, std::int64_t key) {
  caf::actor me = caf::actor_cast<caf::actor>(self);
  job.started = std::chrono::steady_clock::now();
  job.start(self->state.io, [me, key](const grpc::Status& st) {
    caf::anon_send(me, done_atom::value, key, st.ok(),
                   st.ok() ? std::string{} : std::to_string(st.error_code()) + " " + st.error_message());
  });
}

caf::behavior peer_actor(self_ptr self, std::string address, peer_settings settings) {
  auto& st = self->state;
  st.address = address;
  st.in_flight = settings.calls_in_flight;
  auto* registry = settings.registry;
  auto& rpcs = registry->counters("nanocaf_cluster_rpcs_total",
                                  "Calls to other nodes, by peer and result.", {"peer", "result"});
  st.ok = &rpcs.with({address, "ok"});
  st.failed = &rpcs.with({address, "error"});
  st.refused = &rpcs.with({address, "refused"}); // never sent: the session's queue was full
  st.seconds = &registry
                  ->histograms("nanocaf_cluster_rpc_seconds",
                               "Round trip of calls to other nodes, by peer.", {"peer"})
                  .with({address});
  for (std::size_t i = 0; i < channels_per_peer; ++i) {
    // A distinct channel argument keeps gRPC from sharing one connection among them.
    grpc::ChannelArguments args;
    args.SetInt("nanocaf.channel_index", static_cast<int>(i));
    auto channel =
      grpc::CreateCustomChannel(address, settings.security->channel_credentials(), args);
    st.io.pool.push_back({clusterpb::Member::NewStub(channel), clusterpb::Master::NewStub(channel),
                          nanocaf::cluster::Gate::NewStub(channel),
                          nanocaf::cluster::Peer::NewStub(channel)});
  }
  st.io.timeout = settings.timeout;
  st.io.security = std::move(settings.security);
  return {
    [=](peer_job& job) {
      auto& st = self->state;
      if (job.session == 0) {
        st.took_one();
        auto ticket = st.next_ticket++;
        auto& slot = st.loose[ticket] = std::move(job);
        launch(self, slot, -static_cast<std::int64_t>(ticket));
        return;
      }
      auto& q = st.queues[job.session];
      if (q.size() >= max_queued_per_session) {
        // A session that sends faster than the peer answers: refuse rather than grow.
        st.refused->inc();
        if (job.failed)
          job.failed("too many calls queued for this session");
        return;
      }
      st.took_one();
      q.push_back(std::move(job));
      if (q.size() == 1)
        launch(self, q.front(), q.front().session);
    },
    [=](done_atom, std::int64_t key, bool ok, const std::string& error) {
      auto& st = self->state;
      peer_job finished;
      if (key < 0) {
        auto i = st.loose.find(static_cast<std::uint64_t>(-key));
        if (i == st.loose.end())
          return;
        finished = std::move(i->second);
        st.loose.erase(i);
      } else {
        auto i = st.queues.find(key);
        if (i == st.queues.end() || i->second.empty())
          return;
        finished = std::move(i->second.front());
        i->second.pop_front();
        if (i->second.empty())
          st.queues.erase(i);
        else
          launch(self, i->second.front(), key);
      }
      st.done_with_one();
      st.seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - finished.started).count());
      (ok ? st.ok : st.failed)->inc();
      if (!ok) {
        log::debug("call to ", st.address, " failed: ", error);
        if (finished.failed)
          finished.failed(error);
      }
    },
  };
}

} // namespace

caf::actor spawn_peer(caf::actor_system& sys, const std::string& address,
                      const peer_settings& settings) {
  return sys.spawn(peer_actor, address, settings);
}

} // namespace nanocaf::cluster::detail
