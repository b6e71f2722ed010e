#include "detail/peer.hpp"

#include <deque>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

namespace {

using done_atom = caf::atom_constant<caf::atom("peerdone")>;
using batch_done_atom = caf::atom_constant<caf::atom("batchdone")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;

// Calls one session may have waiting for a peer (membership calls share one queue too).
constexpr std::size_t max_queued_per_session = 4096;

// A batch closes at this size (gRPC refuses messages over 4 MiB by default) ...
constexpr std::size_t max_batch_bytes = 1 << 20;
constexpr int max_batch_items = 4096;
// ... and one is out at a time: what queues meanwhile goes in the next one, so batches grow
// with the load instead of calls multiplying. A gRPC call costs far more than the messages in
// it: with four out, the game benchmark spent about a fifth more CPU per move
// (scripts/bench-game.sh). A quiet peer still gets each message at once.
constexpr std::size_t max_batches_out = 1;

// One session's jobs: those launched first (one unary call, or a run of messages in one
// batch), then those waiting for them.
struct lane {
  std::deque<peer_job> jobs;
  std::size_t launched = 0;
  bool in_open_batch = false; // the launched jobs are in the batch not sent yet
  bool blocked = false;       // listed in peer_state::blocked
};

// A batch on its way: the lanes of its items in order, and its call's request and reply.
struct sent_batch {
  std::vector<std::int64_t> keys;
  std::shared_ptr<nanocaf::cluster::Batch> request;
  std::shared_ptr<nanocaf::cluster::BatchReply> reply;
  std::chrono::steady_clock::time_point started;
};

struct peer_state {
  channel_user user; // first: counted until the stubs below are gone
  std::string address;
  stubs io;
  std::shared_ptr<std::atomic<std::int64_t>> in_flight; // may be null
  metrics::counter* ok = nullptr;
  metrics::counter* failed = nullptr;
  metrics::counter* refused = nullptr;
  metrics::histogram* seconds = nullptr;
  metrics::counter* batches = nullptr;
  std::unordered_map<std::int64_t, lane> lanes;
  // Jobs not tied to a session, in flight, by ticket.
  std::unordered_map<std::uint64_t, peer_job> loose;
  std::uint64_t next_ticket = 1;
  // Batching: on until the peer answers a batch with UNIMPLEMENTED.
  bool relay = true;
  std::shared_ptr<nanocaf::cluster::Batch> open = std::make_shared<nanocaf::cluster::Batch>();
  std::vector<std::int64_t> open_keys;
  std::size_t open_bytes = 0;
  bool flush_queued = false;
  std::vector<std::int64_t> blocked; // lanes that stopped because the open batch was full
  std::unordered_map<std::uint64_t, sent_batch> sent;
  std::uint64_t next_batch = 1;
  // Reachability (see probe): the channels, and what the watcher was told last.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  caf::actor watcher;
  std::chrono::milliseconds probe_interval{250};
  bool reachable = true;
  int failing_probes = 0; // in a row: one failed connect is not yet a dead node
  static inline const char* name = "nanocaf.peer";

  ~peer_state() {
    // The peer is gone (it left the cluster, or the node stops): nothing queued will be sent.
    for (auto& [sid, l] : lanes)
      for (auto& job : l.jobs)
        fail(job, {grpc::StatusCode::UNAVAILABLE, "node " + address + " left the cluster"});
    for (auto& [ticket, job] : loose)
      fail(job, {grpc::StatusCode::UNAVAILABLE, "node " + address + " left the cluster"});
  }

  void fail(peer_job& job, const call_failure& error) {
    done_with_one();
    if (job.failed)
      job.failed(error); // a one-way message nobody waits for has none: batch_done logged it
  }
  void took_one() {
    if (in_flight)
      in_flight->fetch_add(1, std::memory_order_acq_rel);
  }
  void done_with_one() {
    if (in_flight)
      in_flight->fetch_sub(1, std::memory_order_acq_rel);
  }
  bool open_full() const {
    return open_bytes >= max_batch_bytes || open->items_size() >= max_batch_items;
  }
};

using self_ptr = caf::stateful_actor<peer_state>*;

// A one-way message as nano's unary call, for a peer that takes no batches.
void make_unary(peer_job& job) {
  using body = nanocaf::cluster::Envelope;
  auto& e = *job.envelope;
  auto sid = job.session;
  switch (e.body_case()) {
    case body::kRequest:
      job.start = make_job<clusterpb::MemberHandleResponse>(
                    sid, std::move(*e.mutable_request()), NANOCAF_CALL(member, HandleRequest))
                    .start;
      break;
    case body::kNotify:
      job.start = make_job<clusterpb::MemberHandleResponse>(
                    sid, std::move(*e.mutable_notify()), NANOCAF_CALL(member, HandleNotify))
                    .start;
      break;
    case body::kPush:
      job.start = make_job<clusterpb::MemberHandleResponse>(
                    sid, std::move(*e.mutable_push()), NANOCAF_CALL(member, HandlePush))
                    .start;
      break;
    case body::kResponse:
      job.start = make_job<clusterpb::MemberHandleResponse>(
                    sid, std::move(*e.mutable_response()), NANOCAF_CALL(member, HandleResponse))
                    .start;
      break;
    case body::kSessionClosed:
      job.start = make_job<clusterpb::SessionClosedResponse>(
                    sid, std::move(*e.mutable_sessionclosed()), NANOCAF_CALL(member, SessionClosed))
                    .start;
      break;
    case body::kCloseSession:
      job.start = make_job<clusterpb::CloseSessionResponse>(
                    sid, std::move(*e.mutable_closesession()), NANOCAF_CALL(member, CloseSession))
                    .start;
      break;
    case body::kKick:
      job.start = make_job<nanocaf::cluster::GateReply>(sid, std::move(*e.mutable_kick()),
                                                        NANOCAF_CALL(gate, Kick))
                    .start;
      break;
    case body::kBind:
      job.start = make_job<nanocaf::cluster::GateReply>(sid, std::move(*e.mutable_bind()),
                                                        NANOCAF_CALL(gate, Bind))
                    .start;
      break;
    case body::kErrorReply: {
      // A Go gate knows no ErrorReply: it gets the reply's JSON as a Response.
      auto& r = e.errorreply();
      nlohmann::json text{{"code", r.code()}, {"error", r.error()}};
      if (!r.errorid().empty())
        text["id"] = r.errorid();
      clusterpb::ResponseMessage resp;
      resp.set_sessionid(r.sessionid());
      resp.set_id(r.id());
      resp.set_data(text.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      job.start = make_job<clusterpb::MemberHandleResponse>(sid, std::move(resp),
                                                            NANOCAF_CALL(member, HandleResponse))
                    .start;
      break;
    }
    case body::kForward: {
      // Unary calls carry nano's messages only: the client's state stays behind (a Go nano
      // node keeps none; --cluster-batches 0 gives nano's behaviour).
      auto& f = *e.mutable_forward();
      if (f.has_request())
        job.start = make_job<clusterpb::MemberHandleResponse>(
                      sid, std::move(*f.mutable_request()), NANOCAF_CALL(member, HandleRequest))
                      .start;
      else
        job.start = make_job<clusterpb::MemberHandleResponse>(
                      sid, std::move(*f.mutable_notify()), NANOCAF_CALL(member, HandleNotify))
                      .start;
      break;
    }
    case body::kStateChange: {
      // Of a change, only a bound uid has a unary form (Gate.Bind, as before state followed
      // clients); a Go gate serves neither.
      auto& c = e.statechange();
      if (c.kind() == nanocaf::cluster::StateChange::BIND) {
        nanocaf::cluster::BindRequest bind;
        bind.set_sessionid(c.sessionid());
        bind.set_uid(c.uid());
        job.start = make_job<nanocaf::cluster::GateReply>(sid, std::move(bind),
                                                          NANOCAF_CALL(gate, Bind))
                      .start;
      } else {
        job.start = [](stubs&, call_done done) { done(grpc::Status::OK); };
      }
      break;
    }
    case body::kCall:
    case body::kCallReply:
      // Component calls are nanocaf's own: a Go nano node offers no handler to call (the
      // caller's call fails with a 503), and one that asked none is owed no reply.
      job.start = [](stubs&, call_done done) {
        done({grpc::StatusCode::UNIMPLEMENTED, "calls need a nanocaf node"});
      };
      break;
    case body::BODY_NOT_SET:
      job.start = [](stubs&, call_done done) {
        done({grpc::StatusCode::INVALID_ARGUMENT, "empty message"});
      };
      break;
  }
  job.envelope.reset();
}

// `key` is a session id (> 0) or a negative ticket for a loose job.
void launch_unary(self_ptr self, peer_job& job, std::int64_t key) {
  if (job.envelope)
    make_unary(job);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  job.started = std::chrono::steady_clock::now();
  job.start(self->state.io, [me, key](const grpc::Status& st) {
    caf::anon_send(me, done_atom::value, key, static_cast<std::int32_t>(st.error_code()),
                   st.error_message());
  });
}

void add_to_open_batch(self_ptr self, std::int64_t key, peer_job& job) {
  auto& st = self->state;
  if (st.open->items_size() == 0 && !st.flush_queued) {
    // Sent once the mailbox holds nothing older: whatever is queued now rides along.
    st.flush_queued = true;
    caf::anon_send(caf::actor_cast<caf::actor>(self), flush_atom::value);
  }
  st.open_bytes += job.envelope->ByteSizeLong();
  st.open->add_items()->Swap(&*job.envelope);
  st.open_keys.push_back(key);
}

// Launches what lane `key` may launch now: its first job, and after a first message in the
// open batch, the messages that follow it.
void pump(self_ptr self, std::int64_t key, lane& l) {
  auto& st = self->state;
  while (l.launched < l.jobs.size()) {
    auto& job = l.jobs[l.launched];
    bool batchable = st.relay && job.envelope && key > 0;
    if (l.launched > 0 && !(l.in_open_batch && batchable))
      return; // wait for what is out
    if (!batchable) {
      launch_unary(self, job, key);
      l.launched = 1;
      l.in_open_batch = false;
      return;
    }
    if (st.open_full()) {
      if (!l.blocked) // listed once, however many jobs arrive while the batch is full
        st.blocked.push_back(key);
      l.blocked = true;
      return;
    }
    add_to_open_batch(self, key, job);
    ++l.launched;
    l.in_open_batch = true;
  }
}

void send_open_batch(self_ptr self) {
  auto& st = self->state;
  if (st.open->items_size() == 0 || st.sent.size() >= max_batches_out)
    return;
  auto id = st.next_batch++;
  st.batches->inc();
  auto& batch = st.sent[id];
  batch.keys.swap(st.open_keys);
  batch.request = std::move(st.open);
  batch.reply = std::make_shared<nanocaf::cluster::BatchReply>();
  batch.started = std::chrono::steady_clock::now();
  st.open = std::make_shared<nanocaf::cluster::Batch>();
  st.open_bytes = 0;
  for (auto key : batch.keys)
    if (auto i = st.lanes.find(key); i != st.lanes.end())
      i->second.in_open_batch = false;
  struct batch_call {
    explicit batch_call(std::shared_ptr<channel_keeper> keeper) : user(std::move(keeper)) {}
    channel_user user; // first: released after everything below
    grpc::ClientContext ctx;
    std::shared_ptr<nanocaf::cluster::Batch> request;
    std::shared_ptr<nanocaf::cluster::BatchReply> reply;
    caf::actor peer;
  };
  auto c = std::make_shared<batch_call>(st.io.channels);
  c->request = batch.request;
  c->reply = batch.reply;
  c->peer = caf::actor_cast<caf::actor>(self);
  c->ctx.set_deadline(std::chrono::system_clock::now() + st.io.timeout);
  st.io.security->sign(c->ctx);
  st.io.pick().relay->async()->Deliver(
    &c->ctx, c->request.get(), c->reply.get(), [c, id](grpc::Status status) {
      caf::anon_send(c->peer, batch_done_atom::value, id,
                     static_cast<std::int32_t>(status.error_code()),
                     status.error_message());
    });
  // Lanes that stopped at a full batch go on in the new one.
  auto blocked = std::move(st.blocked);
  st.blocked.clear();
  for (auto key : blocked)
    if (auto i = st.lanes.find(key); i != st.lanes.end()) {
      i->second.blocked = false;
      pump(self, key, i->second);
    }
}

// A lane whose launched jobs completed: drop it if empty, else launch what waits.
void settle(self_ptr self, std::int64_t key) {
  auto& st = self->state;
  auto i = st.lanes.find(key);
  if (i == st.lanes.end() || i->second.launched > 0)
    return;
  if (i->second.jobs.empty())
    st.lanes.erase(i);
  else
    pump(self, key, i->second);
}

// Puts the messages of a batch that was not taken back into their jobs (the first ones of
// their lanes, in order), as not launched.
void give_back(peer_state& st, const std::vector<std::int64_t>& keys,
               nanocaf::cluster::Batch& batch) {
  std::unordered_map<std::int64_t, std::size_t> next; // per lane, the job of its next item
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto& l = st.lanes[keys[i]];
    l.jobs[next[keys[i]]++].envelope->Swap(batch.mutable_items(static_cast<int>(i)));
  }
  for (auto& [key, count] : next) {
    st.lanes[key].launched = 0;
    st.lanes[key].in_open_batch = false;
  }
}

void batch_done(self_ptr self, std::uint64_t id, std::int32_t code, const std::string& error) {
  auto& st = self->state;
  auto found = st.sent.find(id);
  if (found == st.sent.end())
    return;
  auto batch = std::move(found->second);
  st.sent.erase(found);
  if (code == grpc::StatusCode::UNIMPLEMENTED) {
    if (st.relay)
      log::info("node ", st.address, " takes no batches (a nano node?): unary calls from now on");
    st.relay = false;
    give_back(st, batch.keys, *batch.request);
    give_back(st, st.open_keys, *st.open);
    st.open_keys.clear();
    st.open->Clear();
    st.open_bytes = 0;
    st.blocked.clear();
    for (auto& [key, l] : st.lanes) {
      l.blocked = false;
      if (l.launched == 0 && !l.jobs.empty())
        pump(self, key, l);
    }
    return;
  }
  st.seconds->observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - batch.started).count());
  std::unordered_map<int, const nanocaf::cluster::Refusal*> refusals;
  for (auto& r : batch.reply->refused())
    refusals[r.index()] = &r;
  for (std::size_t i = 0; i < batch.keys.size(); ++i) {
    auto& l = st.lanes[batch.keys[i]];
    if (l.jobs.empty())
      continue; // cannot happen: a lane with jobs out stays
    auto job = std::move(l.jobs.front());
    l.jobs.pop_front();
    --l.launched;
    call_failure why{static_cast<grpc::StatusCode>(code), error};
    if (auto r = refusals.find(static_cast<int>(i)); code == 0 && r != refusals.end())
      why = {static_cast<grpc::StatusCode>(r->second->code()), r->second->message()};
    if (why.code == grpc::StatusCode::OK) {
      st.ok->inc();
      st.done_with_one();
      continue;
    }
    st.failed->inc();
    log::debug("message to ", st.address, " failed: ", why.code, " ", why.text);
    st.fail(job, why);
  }
  for (auto key : batch.keys)
    settle(self, key);
  send_open_batch(self);
}

// A peer whose process died refuses connections: gRPC's channels go to TRANSIENT_FAILURE as
// soon as they try to connect. Asking an idle channel to connect (GetState(true)) makes that
// happen without waiting for the next call, so a gate learns of a dead backend within a
// probe or two instead of at the master's eviction, seconds later.
void probe(self_ptr self) {
  auto& st = self->state;
  bool all_failing = !st.channels.empty();
  for (auto& channel : st.channels)
    if (channel->GetState(true) != GRPC_CHANNEL_TRANSIENT_FAILURE)
      all_failing = false;
  st.failing_probes = all_failing ? st.failing_probes + 1 : 0;
  bool reachable = st.failing_probes < 2;
  if (reachable != st.reachable) {
    st.reachable = reachable;
    caf::anon_send(st.watcher, reachability_atom::value, st.address, st.reachable);
  }
  self->delayed_send(self, st.probe_interval, probe_atom::value);
}

caf::behavior peer_actor(self_ptr self, std::string address, peer_settings settings) {
  auto& st = self->state;
  st.address = address;
  st.user.count_in(settings.channels);
  st.in_flight = settings.calls_in_flight;
  st.relay = settings.batches;
  auto* registry = settings.registry;
  auto& rpcs = registry->counters("nanocaf_cluster_rpcs_total",
                                  "Calls and one-way messages to other nodes, by peer and result.",
                                  {"peer", "result"});
  st.ok = &rpcs.with({address, "ok"});
  st.failed = &rpcs.with({address, "error"});
  st.refused = &rpcs.with({address, "refused"}); // never sent: the session's queue was full
  st.batches = &registry
                  ->counters("nanocaf_cluster_batches_total",
                             "Relay batches sent to other nodes, by peer (the messages they "
                             "carried are among nanocaf_cluster_rpcs_total).", {"peer"})
                  .with({address});
  st.seconds = &registry
                  ->histograms("nanocaf_cluster_rpc_seconds",
                               "Round trip of gRPC calls to other nodes, by peer.", {"peer"})
                  .with({address});
  for (std::size_t i = 0; i < channels_per_peer; ++i) {
    // A distinct channel argument keeps gRPC from sharing one connection among them.
    grpc::ChannelArguments args;
    args.SetInt("nanocaf.channel_index", static_cast<int>(i));
    // A node that comes back is tried again within a second, not after gRPC's default
    // backoff of up to two minutes (it is left out of routing meanwhile).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    auto channel =
      grpc::CreateCustomChannel(address, settings.security->channel_credentials(), args);
    if (settings.channels)
      settings.channels->keep(channel);
    st.channels.push_back(channel);
    st.io.pool.push_back({clusterpb::Member::NewStub(channel), clusterpb::Master::NewStub(channel),
                          nanocaf::cluster::Gate::NewStub(channel),
                          nanocaf::cluster::Peer::NewStub(channel),
                          nanocaf::cluster::Relay::NewStub(channel)});
  }
  st.io.timeout = settings.timeout;
  st.io.security = std::move(settings.security);
  st.io.channels = settings.channels;
  st.watcher = settings.watcher;
  st.probe_interval = settings.probe_interval;
  if (st.watcher)
    self->delayed_send(self, st.probe_interval, probe_atom::value);
  return {
    [=](probe_atom) { probe(self); },
    [=](peer_job& job) {
      auto& st = self->state;
      if (job.session == 0) {
        st.took_one();
        auto ticket = st.next_ticket++;
        auto& slot = st.loose[ticket] = std::move(job);
        launch_unary(self, slot, -static_cast<std::int64_t>(ticket));
        return;
      }
      auto key = job.session;
      auto& l = st.lanes[key];
      if (l.jobs.size() >= max_queued_per_session) {
        // A session that sends faster than the peer answers: refuse rather than grow.
        st.refused->inc();
        if (job.failed)
          job.failed({grpc::StatusCode::RESOURCE_EXHAUSTED, "too many calls queued for this session"});
        return;
      }
      st.took_one();
      l.jobs.push_back(std::move(job));
      pump(self, key, l);
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      send_open_batch(self);
    },
    [=](batch_done_atom, std::uint64_t id, std::int32_t code, const std::string& error) {
      batch_done(self, id, code, error);
    },
    [=](done_atom, std::int64_t key, std::int32_t code, const std::string& error) {
      bool ok = code == grpc::StatusCode::OK;
      auto& st = self->state;
      peer_job finished;
      if (key < 0) {
        auto i = st.loose.find(static_cast<std::uint64_t>(-key));
        if (i == st.loose.end())
          return;
        finished = std::move(i->second);
        st.loose.erase(i);
      } else {
        auto i = st.lanes.find(key);
        if (i == st.lanes.end() || i->second.jobs.empty())
          return;
        finished = std::move(i->second.jobs.front());
        i->second.jobs.pop_front();
        i->second.launched = 0;
        settle(self, key);
      }
      st.done_with_one();
      st.seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - finished.started).count());
      (ok ? st.ok : st.failed)->inc();
      if (!ok) {
        log::debug("call to ", st.address, " failed: ", code, " ", error);
        if (finished.failed)
          finished.failed({static_cast<grpc::StatusCode>(code), error});
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
