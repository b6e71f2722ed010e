// The member actor: what one node knows of the cluster and does for it (spec 7.3-7.7).
#include <malloc.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "detail/actors.hpp"
#include "detail/convert.hpp"
#include "detail/peer.hpp"
#include "detail/routing.hpp"
#include "detail/state_convert.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/runtime.hpp"
#include "nanocaf/wiring/runtime.hpp"
#include "remote_outlet.hpp"

namespace nanocaf::cluster::detail {

namespace {

using clock = std::chrono::steady_clock;

// A request this gate forwarded and whose response has not come back yet.
// Requests one client may have waiting for answers from other nodes.
constexpr std::size_t max_pending_per_session = 1024;

struct pending_request {
  std::string node;
  session origin;
  clock::time_point since;
  // Set when its node left gracefully: it may still answer (it drains before exiting) until
  // then; past it the request gets a 503.
  std::optional<clock::time_point> give_up_at;
};

// A call sent in a Relay batch, waiting for its CallReply.
struct pending_call {
  call_handler done;
  std::optional<session> client; // the client it is made for: the reply's changes go to it
  std::string node;
  std::string route;
};

struct member_state {
  runtime* rt = nullptr;
  options opts;
  member_info self;
  std::shared_ptr<status_board> board;
  std::shared_ptr<const node_security> security;
  bool registered = false;
  bool leaving = false; // the node is stopping: no more heartbeats or registrations
  metrics::gauge* members_gauge = nullptr;
  metrics::gauge* remote_sessions_gauge = nullptr;

  std::map<std::string, member_info> members;            // by address, this node excluded
  // Per address, which registration of that node we know: one that registers again is a new
  // process and holds none of our clients' state.
  std::map<std::string, std::uint64_t> epochs;
  std::uint64_t next_epoch = 1;
  // Nodes whose connections are all refused: left out of routing until they answer again
  // (or the master evicts them).
  std::set<std::string> unreachable;
  // Per node, our clients whose messages went there: told when it is lost (on_node_lost).
  std::unordered_map<std::string, std::unordered_set<std::int64_t>> clients_on;
  std::map<std::string, std::vector<std::string>> providers; // service -> addresses
  std::unordered_map<std::string, caf::actor> peers;     // bridges, by address
  // Sessions of clients connected to other nodes, by (gate address, gate session id).
  std::map<std::pair<std::string, std::int64_t>, session> remote_sessions;
  std::map<std::pair<std::int64_t, std::uint64_t>, pending_request> pending; // (sid, mid)
  // Calls sent in Relay batches, by their number, until their CallReply comes back.
  std::unordered_map<std::uint64_t, pending_call> calls;
  std::uint64_t next_call = 1;
  std::mt19937 rng{std::random_device{}()};
  std::size_t trimmed_at = 0; // see return_free_memory
  static inline const char* name = "nanocaf.member";

  ~member_state() {
    for (auto& [id, call] : calls)
      call.done({reply_code::unavailable, generic_error_text(reply_code::unavailable), {}, {}});
    for (auto& [addr, peer] : peers)
      caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
    for (auto& [key, s] : remote_sessions)
      wiring::close_remote_session(*rt, s);
  }
};

using self_ptr = caf::stateful_actor<member_state>*;

void publish(self_ptr self) {
  auto& st = self->state;
  std::lock_guard<std::mutex> guard{st.board->mu};
  st.board->members.clear();
  for (auto& [addr, info] : st.members)
    st.board->members.push_back(info);
  st.board->registered = st.registered;
  st.board->remote_sessions = st.remote_sessions.size();
  st.members_gauge->set(static_cast<std::int64_t>(st.members.size()));
  st.remote_sessions_gauge->set(static_cast<std::int64_t>(st.remote_sessions.size()));
}

const caf::actor& peer(self_ptr self, const std::string& address) {
  auto& st = self->state;
  auto i = st.peers.find(address);
  if (i == st.peers.end())
    i = st.peers.emplace(address, spawn_peer(self->system(), address,
                                   {st.opts.rpc_timeout, &st.rt->metrics(), st.security,
                                    st.board->calls_in_flight, st.board->channels,
                                    st.opts.batches, caf::actor_cast<caf::actor>(self),
                                    st.opts.reachability_probe})).first;
  return i->second;
}

void rebuild_providers(member_state& st) {
  st.providers.clear();
  for (auto& [addr, info] : st.members)
    if (st.unreachable.count(addr) == 0)
      for (auto& service : info.services)
        st.providers[service].push_back(addr);
}

// Tells the application about each of our clients whose messages went to `node`, once.
void clients_lost_node(member_state& st, const member_info& node) {
  auto clients = st.clients_on.find(node.service_address);
  if (clients == st.clients_on.end())
    return;
  auto sids = std::move(clients->second);
  st.clients_on.erase(clients);
  if (!st.opts.on_node_lost)
    return;
  // Runs on each session's actor, later: the lambda owns what it uses.
  auto tell = std::make_shared<const std::function<void(const session&, const member_info&)>>(
    st.opts.on_node_lost);
  auto lost = std::make_shared<const member_info>(node);
  for (auto sid : sids)
    wiring::with_session(*st.rt, sid, [tell, lost](const session& s) {
      try {
        (*tell)(s, *lost);
      } catch (const std::exception& e) {
        log::error("on_node_lost threw: ", e.what());
      }
    });
}

void add_members(self_ptr self, const std::vector<member_info>& infos) {
  auto& st = self->state;
  for (auto& info : infos) {
    if (info.service_address == st.self.service_address)
      continue;
    // A node that registers again replaces its old record: no duplicate service entries.
    st.members[info.service_address] = info;
    st.epochs[info.service_address] = st.next_epoch++;
    log::info("member ", info.service_address, " offers [", [&] {
      std::string list;
      for (auto& s : info.services)
        list += (list.empty() ? "" : ", ") + s;
      return list;
    }(), "]");
  }
  rebuild_providers(st);
  publish(self);
}

// A request that another node did not answer: its client gets the code and a generic text
// (nothing in nano mode), the log gets `detail` under the reply's error id.
void reply_failure(const session& origin, std::uint64_t mid, int code, const std::string& detail) {
  if (mid == 0) {
    log::debug("one-way message lost: ", detail);
    return;
  }
  origin.response_failure(mid, code, detail);
}

// 503 or 504 for a call or message that failed on its way to another node.
int reply_code_of(const call_failure& f) {
  return f.code == grpc::StatusCode::DEADLINE_EXCEEDED ? reply_code::timeout
                                                        : reply_code::unavailable;
}

// Completes a call sent in a batch with an error, once: the detail goes to the log.
void fail_call(member_state& st, std::uint64_t id, int code, const std::string& why) {
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return; // answered already
  auto error_id = new_error_id();
  log::warn("error ", error_id, " (", code, "): call of ", i->second.route, " on ",
            i->second.node, " failed: ", why);
  auto done = std::move(i->second.done);
  st.calls.erase(i);
  done({code, generic_error_text(code), {}, error_id});
}

void fail_pending(member_state& st, const std::string& node, const std::string& why) {
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.node == node) {
      reply_failure(i->second.origin, i->first.second, reply_code::unavailable, why);
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
  std::vector<std::uint64_t> calls;
  for (auto& [id, call] : st.calls)
    if (call.node == node)
      calls.push_back(id);
  for (auto id : calls)
    fail_call(st, id, reply_code::unavailable, why);
}

// The outlet of a remote session this actor made.
remote_outlet& outlet_of(const session& s) { return static_cast<remote_outlet&>(*wiring::outlet_of(s)); }

// Frees a remote session: its client is gone, so are the answers it was owed.
void free_remote_session(member_state& st, const session& s) {
  outlet_of(s).forgive();
  wiring::close_remote_session(*st.rt, s);
}

// `draining`: the node unregistered and is finishing its requests, so those pending on it may
// still be answered; otherwise (evicted, or a Go master that does not say) they fail now.
void remove_member(self_ptr self, const std::string& address, bool draining) {
  auto& st = self->state;
  auto gone = st.members.find(address);
  if (gone == st.members.end())
    return;
  auto info = std::move(gone->second);
  st.members.erase(gone);
  st.unreachable.erase(address);
  log::info("member ", address, draining ? " left (draining)" : " left");
  clients_lost_node(st, info);
  rebuild_providers(st);
  if (auto p = st.peers.find(address); p != st.peers.end()) {
    caf::anon_send_exit(p->second, caf::exit_reason::user_shutdown);
    st.peers.erase(p);
  }
  // Its clients are gone: free the sessions we held for them.
  for (auto i = st.remote_sessions.begin(); i != st.remote_sessions.end();) {
    if (i->first.first == address) {
      free_remote_session(st, i->second);
      i = st.remote_sessions.erase(i);
    } else {
      ++i;
    }
  }
  if (draining) {
    auto until = clock::now() + st.opts.drain_timeout + st.opts.rpc_timeout;
    for (auto& [key, p] : st.pending)
      if (p.node == address)
        p.give_up_at = until;
  } else {
    fail_pending(st, address, "node " + address + " left the cluster");
  }
  publish(self);
}

client_ref client_of(const member_state& st, const session& s) {
  if (auto* remote = dynamic_cast<const remote_outlet*>(wiring::outlet_of(s).get()))
    return {remote->gate(), remote->gate_session()};
  return {st.self.service_address, s.id()};
}

// The node for a message of `origin` (not valid(): a call made for no client), see routing.hpp.
std::string choose_node(self_ptr self, const std::string& service, const codec::message& msg,
                        const session& origin, const std::vector<std::string>& candidates) {
  auto& st = self->state;
  auto ref = origin.valid() ? client_of(st, origin) : client_ref{};
  return detail::choose_node({service, msg.route, msg.payload, origin, ref}, candidates,
                             st.members, st.opts.route, st.rng);
}

void forward(self_ptr self, forward_msg& f) {
  auto& st = self->state;
  auto& msg = f.msg;
  std::uint64_t mid = msg.type == codec::message_type::request ? msg.id : 0;
  auto dot = msg.route.rfind('.');
  auto service = dot == std::string::npos ? std::string{} : msg.route.substr(0, dot);
  auto providers = st.providers.find(service);
  if (providers == st.providers.end() || providers->second.empty()) {
    log::debug("no node offers ", msg.route);
    f.origin.response_error(mid, reply_code::route_not_found, "route not found: " + msg.route);
    return;
  }
  auto node = choose_node(self, service, msg, f.origin, providers->second);
  if (node.empty()) {
    reply_failure(f.origin, mid, reply_code::unavailable,
                  "the route function chose no node for " + msg.route);
    return;
  }
  // A remote session keeps its gate as origin, so a third node answers the gate directly.
  auto [gate, gate_session] = client_of(st, f.origin);
  if (mid != 0 && gate == st.self.service_address) {
    // Bounded per client: one that keeps asking a node that does not answer is refused
    // rather than growing this table.
    auto first = st.pending.lower_bound({gate_session, 0});
    auto last = st.pending.lower_bound({gate_session + 1, 0});
    if (static_cast<std::size_t>(std::distance(first, last)) >= max_pending_per_session) {
      f.origin.response_error(mid, reply_code::too_many_requests,
                              "too many requests waiting for other nodes");
      return;
    }
    st.pending[{gate_session, mid}] = {node, f.origin, clock::now(), std::nullopt};
  }
  if (gate == st.self.service_address)
    st.clients_on[node].insert(gate_session);
  // A call that fails (refused, unreachable, deadline) is answered here, and its pending
  // entry goes too: otherwise a flooding client would fill the table for a minute.
  // A tracked request's failure goes to the member, which answers from its pending entry (the
  // entry names the node): the handler holds only ids, one small allocation per request.
  failure_handler failed;
  if (mid != 0 && gate == st.self.service_address) {
    failed = [me = caf::actor_cast<caf::actor>(self), sid = gate_session,
              mid](const call_failure& err) {
      caf::anon_send(me, request_failed_atom::value, sid, mid,
                     static_cast<std::int32_t>(reply_code_of(err)), describe(err));
    };
  } else {
    failed = [origin = f.origin, mid, node, route = msg.route](const call_failure& err) {
      reply_failure(origin, mid, reply_code_of(err),
                    "node " + node + " did not take " + route + ": " + describe(err));
    };
  }
  nanocaf::cluster::Envelope e;
  auto& fwd = *e.mutable_forward();
  if (mid != 0) {
    auto& req = *fwd.mutable_request();
    req.set_gateaddr(gate);
    req.set_sessionid(gate_session);
    req.set_id(mid);
    req.set_route(std::move(msg.route));
    req.set_data(std::move(msg.payload));
  } else {
    auto& req = *fwd.mutable_notify();
    req.set_gateaddr(gate);
    req.set_sessionid(gate_session);
    req.set_route(std::move(msg.route));
    req.set_data(std::move(msg.payload));
  }
  // The client's state goes along when the node may not have its current version; from a
  // node that is not the client's gate, always (it cannot know what the receiver has).
  if (gate == st.self.service_address) {
    auto state = wiring::prepare_forward(f.origin, node, st.epochs[node]);
    fwd.set_stateversion(state.version);
    fwd.set_appliedseq(state.applied_seq);
    fwd.set_replicaid(state.replica_id);
    if (state.state)
      to_proto(*state.state, *fwd.mutable_state());
  } else {
    auto state = wiring::snapshot(f.origin);
    fwd.set_stateversion(state.version);
    to_proto(state, *fwd.mutable_state());
  }
  caf::anon_send(peer(self, node), message_job(gate_session, std::move(e), std::move(failed)));
}

// The session standing for client (gate, gate session) on this node, created on first use.
const session& remote_session(self_ptr self, const std::string& gate, std::int64_t gate_session) {
  auto& st = self->state;
  auto key = std::make_pair(gate, gate_session);
  auto i = st.remote_sessions.find(key);
  if (i == st.remote_sessions.end()) {
    auto out = std::make_shared<remote_outlet>(gate, gate_session, peer(self, gate), st.board,
                                               st.self.service_address);
    i = st.remote_sessions.emplace(key, wiring::open_remote_session(*st.rt, std::move(out))).first;
    publish(self);
  }
  return i->second;
}

// Brings the remote session's copy of the client's state up to what the request needs; false
// when it cannot (this node lost the copy the gate thinks it has).
bool bring_state_up_to_date(const session& s, const wiring::forward_state& f) {
  if (f.state) {
    wiring::adopt(s, *f.state);
    return true;
  }
  wiring::acknowledge(s, f.replica_id, f.applied_seq);
  return wiring::state_version(s) >= f.version;
}

void remote_in(self_ptr self, remote_in_msg& in) {
  auto& s = remote_session(self, in.gate, in.gate_session);
  bool is_request = in.msg.type == codec::message_type::request;
  if (is_request)
    outlet_of(s).request_arrived();
  if (in.state && !bring_state_up_to_date(s, *in.state)) {
    // Never served with older state: the gate sends the whole state with the next request.
    // The resync goes first, in the same stream as the error reply.
    wiring::outlet_of(s)->changed({state_change::kind::resync, {}, {}});
    auto detail = "client state of " + in.gate + "#" + std::to_string(in.gate_session) +
                  " is at version " + std::to_string(wiring::state_version(s)) + ", " +
                  in.msg.route + " needs " + std::to_string(in.state->version);
    if (is_request)
      s.response_failure(in.msg.id, reply_code::unavailable, detail);
    else
      log::warn("notify dropped: ", detail);
    return;
  }
  wiring::dispatch(*self->state.rt, s, std::move(in.msg));
}

void call_in(self_ptr self, call_in_msg& in) {
  std::optional<session> client;
  if (!in.gate.empty())
    client = remote_session(self, in.gate, in.gate_session);
  auto& rt = *self->state.rt;
  auto done = [done = std::move(in.done), node = self->state.self.service_address](call_reply r) {
    if (r.changes)
      r.changes->node = node;
    done(std::move(r));
  };
  auto call = wiring::open_call_session(rt, std::move(client), std::move(done));
  if (in.state)
    wiring::adopt(call, *in.state); // the caller's view of the client, newer than ours
  wiring::dispatch(rt, call, std::move(in.msg));
}

void call_out(self_ptr self, call_out_msg& c) {
  auto& st = self->state;
  auto dot = c.msg.route.rfind('.');
  auto service = dot == std::string::npos ? std::string{} : c.msg.route.substr(0, dot);
  auto providers = st.providers.find(service);
  if (providers == st.providers.end() || providers->second.empty()) {
    c.done({reply_code::route_not_found, "route not found: " + c.msg.route, {}, {}});
    return;
  }
  client_ref client;
  auto node = choose_node(self, service, c.msg, c.client ? *c.client : session{}, providers->second);
  if (c.client)
    client = client_of(st, *c.client);
  if (node.empty()) {
    auto id = new_error_id();
    log::warn("error ", id, ": the route function chose no node for ", c.msg.route);
    c.done({reply_code::unavailable, generic_error_text(reply_code::unavailable), {}, id});
    return;
  }
  nanocaf::cluster::CallRequest req;
  req.set_route(std::move(c.msg.route));
  req.set_data(std::move(c.msg.payload));
  req.set_gateaddr(client.gate);
  req.set_sessionid(client.session_id);
  if (c.client)
    to_proto(wiring::snapshot(*c.client), *req.mutable_state());
  if (st.opts.batches) { // in a Relay batch; the reply comes back in one of the callee's
    auto id = st.next_call++;
    req.set_callid(id);
    req.set_replyto(st.self.service_address);
    st.calls.emplace(id, pending_call{std::move(c.done), std::move(c.client), node, req.route()});
    self->delayed_send(self, c.timeout, call_timeout_atom::value, id);
    nanocaf::cluster::Envelope e;
    *e.mutable_call() = std::move(req);
    auto me = caf::actor_cast<caf::actor>(self);
    caf::anon_send(peer(self, node),
                   message_job(lane_of(client.session_id, id), std::move(e),
                               [me, id](const call_failure& err) {
                     caf::anon_send(me, call_failed_atom::value, id,
                                    static_cast<std::int32_t>(reply_code_of(err)), describe(err));
                   }));
    return;
  }
  auto done = c.done;
  auto timeout = c.timeout;
  peer_job job;
  job.session = client.session_id; // in order with that client's other messages
  job.failed = [done, node, route = req.route()](const call_failure& err) {
    auto code = reply_code_of(err);
    auto id = new_error_id();
    log::warn("error ", id, " (", code, "): call of ", route, " on ", node, " failed: ",
              describe(err));
    done({code, generic_error_text(code), {}, id});
  };
  job.start = [req = std::move(req), done, timeout, client = c.client](stubs& io, call_done finished) {
    async_call<nanocaf::cluster::CallRequest, nanocaf::cluster::CallReply>(
      io, timeout, req,
      [&io](auto* ctx, auto* rq, auto* rs, auto cb) {
        io.pick().peer->async()->Call(ctx, rq, rs, std::move(cb));
      },
      [done, finished, client](const grpc::Status& status, nanocaf::cluster::CallReply& reply) {
        if (status.ok())
          done(from_proto(reply, client ? &*client : nullptr));
        finished(status);
      });
  };
  caf::anon_send(peer(self, node), std::move(job));
}

// Our client's session ended: every node may hold a remote session for it (chained calls
// reach nodes this gate never called), so all are told, each in order after that session's
// earlier messages.
void local_closed(self_ptr self, std::int64_t sid) {
  auto& st = self->state;
  for (auto& [node, clients] : st.clients_on)
    clients.erase(sid);
  for (auto i = st.pending.lower_bound({sid, 0}); i != st.pending.end() && i->first.first == sid;)
    i = st.pending.erase(i);
  for (auto& [addr, info] : st.members) {
    nanocaf::cluster::Envelope e;
    e.mutable_sessionclosed()->set_sessionid(sid);
    caf::anon_send(peer(self, addr), message_job(sid, std::move(e)));
  }
}

void remote_closed(self_ptr self, std::int64_t sid) {
  auto& st = self->state;
  bool changed = false;
  for (auto i = st.remote_sessions.begin(); i != st.remote_sessions.end();) {
    if (i->first.second == sid) {
      free_remote_session(st, i->second);
      i = st.remote_sessions.erase(i);
      changed = true;
    } else {
      ++i;
    }
  }
  if (changed)
    publish(self);
}

// A peer's connections all refused (its process died), or working again.
void reachability_changed(self_ptr self, const std::string& address, bool reachable) {
  auto& st = self->state;
  auto member = st.members.find(address);
  if (member == st.members.end())
    return; // the master, or a node that already left
  if (reachable) {
    if (st.unreachable.erase(address) != 0) {
      log::info("member ", address, " is reachable again");
      rebuild_providers(st);
    }
    return;
  }
  if (!st.unreachable.insert(address).second)
    return;
  log::warn("member ", address, " refuses connections: no messages go there until it answers");
  rebuild_providers(st);
  fail_pending(st, address, "node " + address + " refuses connections");
  clients_lost_node(st, member->second);
}

call_metadata heartbeat_hint(std::chrono::milliseconds period) {
  return {{heartbeat_metadata_key, std::to_string(period.count())}};
}

void send_register(self_ptr self) {
  auto& st = self->state;
  clusterpb::RegisterRequest req;
  to_proto(st.self, *req.mutable_memberinfo());
  caf::actor me = caf::actor_cast<caf::actor>(self);
  peer_job job;
  auto hint = heartbeat_hint(st.opts.heartbeat);
  job.start = [req, me, hint](stubs& io, call_done done) {
    async_call<clusterpb::RegisterRequest, clusterpb::RegisterResponse>(
      io, io.timeout, req,
      [&io](auto* ctx, auto* rq, auto* rs, auto cb) {
        io.pick().master->async()->Register(ctx, rq, rs, std::move(cb));
      },
      [me, done](const grpc::Status& status, clusterpb::RegisterResponse& resp) {
        if (status.ok()) {
          std::vector<member_info> members;
          for (auto& m : resp.members())
            members.push_back(from_proto(m));
          caf::anon_send(me, registered_atom::value, std::move(members));
        }
        done(status);
      },
      hint);
  };
  auto retry = st.opts.retry_interval;
  auto master = st.opts.master_address;
  job.failed = [me, retry, master](const call_failure& err) {
    log::warn("register with master ", master, " failed (", describe(err), "); retrying in ",
              retry.count(),
              " ms");
    caf::delayed_anon_send(me, retry, register_tick_atom::value);
  };
  caf::anon_send(peer(self, st.opts.master_address), std::move(job));
}

void send_heartbeat(self_ptr self) {
  auto& st = self->state;
  clusterpb::HeartbeatRequest req;
  to_proto(st.self, *req.mutable_memberinfo());
  auto master = st.opts.master_address;
  caf::anon_send(peer(self, master),
                 make_job<clusterpb::HeartbeatResponse>(
                   0, std::move(req), NANOCAF_CALL(master, Heartbeat),
                   [master](const call_failure& err) {
                     log::debug("heartbeat to master ", master, " failed: ", describe(err));
                   },
                   heartbeat_hint(st.opts.heartbeat)));
}

// What gRPC read for a burst of large calls (refused ones too) goes back to its allocator's
// arenas, where glibc keeps it: RSS would stay at the burst's peak. Once a heartbeat period,
// when more than this lies free, it is handed back to the system.
constexpr std::size_t trim_above = 16u << 20;

// `trimmed_at`: what lay free after the last trim; free chunks that the system cannot take
// back stay counted, so the trim runs again only when that grows by another trim_above.
void return_free_memory(std::size_t& trimmed_at) {
  auto free_bytes = ::mallinfo2().fordblks;
  if (free_bytes <= trimmed_at + trim_above) {
    trimmed_at = std::min(trimmed_at, free_bytes);
    return;
  }
  ::malloc_trim(0);
  trimmed_at = ::mallinfo2().fordblks;
}

// Requests whose node never answered (a handler that never replies, a lost reply) do not
// stay forever: after this long they get an error reply.
constexpr auto pending_limit = std::chrono::seconds(60);

void expire_pending(member_state& st) {
  auto now = clock::now();
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    auto& p = i->second;
    if (p.give_up_at && now > *p.give_up_at) {
      reply_failure(p.origin, i->first.second, reply_code::unavailable,
                    "node " + p.node + " left the cluster");
      i = st.pending.erase(i);
    } else if (now - p.since > pending_limit) {
      reply_failure(p.origin, i->first.second, reply_code::timeout,
                    "no response from " + p.node + " within " +
                      std::to_string(pending_limit.count()) + " s");
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
}

caf::behavior member_actor(self_ptr self, runtime* rt, options opts, member_info self_info,
                           std::shared_ptr<status_board> board,
                           std::shared_ptr<const node_security> security) {
  auto& st = self->state;
  st.security = std::move(security);
  st.rt = rt;
  st.opts = std::move(opts);
  st.self = std::move(self_info);
  st.board = std::move(board);
  st.members_gauge =
    &rt->metrics().gauges("nanocaf_cluster_members", "Other nodes this node knows.").get();
  st.remote_sessions_gauge = &rt->metrics()
                                .gauges("nanocaf_cluster_remote_sessions",
                                        "Sessions held here for clients of other nodes.")
                                .get();
  return {
    [=](start_atom) {
      auto& st = self->state;
      if (st.opts.is_master) {
        st.registered = true;
        publish(self);
      } else {
        send_register(self);
      }
      self->delayed_send(self, st.opts.heartbeat, heartbeat_tick_atom::value);
    },
    [=](register_tick_atom) {
      if (!self->state.leaving)
        send_register(self);
    },
    [=](leaving_atom) {
      self->state.leaving = true;
      return true;
    },
    [=](registered_atom, std::vector<member_info>& members) {
      auto& st = self->state;
      log::info("registered with master ", st.opts.master_address, ": ", members.size(),
                " other node(s)");
      st.registered = true;
      add_members(self, members);
    },
    [=](heartbeat_tick_atom) {
      auto& st = self->state;
      if (!st.opts.is_master && st.registered && !st.leaving)
        send_heartbeat(self);
      expire_pending(st);
      if (st.opts.trim_memory)
        return_free_memory(st.trimmed_at);
      self->delayed_send(self, st.opts.heartbeat, heartbeat_tick_atom::value);
    },
    [=](forward_msg& f) { forward(self, f); },
    [=](remote_in_msg& in) { remote_in(self, in); },
    [=](call_in_msg& in) { call_in(self, in); },
    [=](call_out_msg& c) { call_out(self, c); },
    [=](call_answer_msg& a) {
      nanocaf::cluster::Envelope e;
      auto lane = lane_of(a.session, a.reply.callid());
      *e.mutable_callreply() = std::move(a.reply);
      caf::anon_send(peer(self, a.reply_to), message_job(lane, std::move(e)));
    },
    [=](call_reply_msg& r) {
      auto& st = self->state;
      auto i = st.calls.find(r.reply.callid());
      if (i == st.calls.end())
        return; // timed out, or its node was lost
      auto call = std::move(i->second);
      st.calls.erase(i);
      call.done(from_proto(r.reply, call.client ? &*call.client : nullptr));
    },
    [=](call_timeout_atom, std::uint64_t id) {
      fail_call(self->state, id, reply_code::timeout, "no reply in time");
    },
    [=](call_failed_atom, std::uint64_t id, std::int32_t code, const std::string& why) {
      fail_call(self->state, id, code, why);
    },
    [=](join_msg& j) { add_members(self, j.members); },
    [=](leave_atom, const std::string& address, bool draining) {
      remove_member(self, address, draining);
    },
    [=](local_closed_atom, std::int64_t sid) { local_closed(self, sid); },
    [=](reachability_atom, const std::string& address, bool reachable) {
      reachability_changed(self, address, reachable);
    },
    [=](remote_closed_atom, std::int64_t sid) { remote_closed(self, sid); },
    [=](response_seen_atom, std::int64_t sid, std::uint64_t mid) {
      self->state.pending.erase({sid, mid});
    },
    [=](responses_seen_msg& msg) {
      for (auto& key : msg.seen)
        self->state.pending.erase(key);
    },
    [=](request_failed_atom, std::int64_t sid, std::uint64_t mid, std::int32_t code,
        const std::string& detail) {
      auto& pending = self->state.pending;
      if (auto p = pending.find({sid, mid}); p != pending.end()) {
        reply_failure(p->second.origin, mid, code,
                      "node " + p->second.node + " did not take the request: " + detail);
        pending.erase(p);
      }
    },
  };
}

} // namespace

} // namespace nanocaf::cluster::detail

namespace nanocaf::cluster::detail {

caf::actor spawn_member(runtime& rt, const options& opts, member_info self_info,
                        std::shared_ptr<status_board> board,
                        std::shared_ptr<const node_security> security) {
  return rt.system().spawn(member_actor, &rt, opts, std::move(self_info), std::move(board),
                           std::move(security));
}

} // namespace nanocaf::cluster::detail
