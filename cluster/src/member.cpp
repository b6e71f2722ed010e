// The member actor: what one node knows of the cluster and does for it (spec 7.3-7.7).
#include <malloc.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "detail/actors.hpp"
#include "detail/convert.hpp"
#include "detail/peer.hpp"
#include "detail/routing.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/runtime.hpp"
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
  std::map<std::string, std::vector<std::string>> providers; // service -> addresses
  std::unordered_map<std::string, caf::actor> peers;     // bridges, by address
  // Sessions of clients connected to other nodes, by (gate address, gate session id).
  std::map<std::pair<std::string, std::int64_t>, session> remote_sessions;
  std::map<std::pair<std::int64_t, std::uint64_t>, pending_request> pending; // (sid, mid)
  std::mt19937 rng{std::random_device{}()};
  std::size_t trimmed_at = 0; // see return_free_memory
  static inline const char* name = "nanocaf.member";

  ~member_state() {
    for (auto& [addr, peer] : peers)
      caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
    for (auto& [key, s] : remote_sessions)
      rt->close_remote_session(s);
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
                                    st.opts.batches})).first;
  return i->second;
}

void rebuild_providers(member_state& st) {
  st.providers.clear();
  for (auto& [addr, info] : st.members)
    for (auto& service : info.services)
      st.providers[service].push_back(addr);
}

void add_members(self_ptr self, const std::vector<member_info>& infos) {
  auto& st = self->state;
  for (auto& info : infos) {
    if (info.service_address == st.self.service_address)
      continue;
    // A node that registers again replaces its old record: no duplicate service entries.
    st.members[info.service_address] = info;
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

void fail_pending(member_state& st, const std::string& node, const std::string& why) {
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.node == node) {
      reply_failure(i->second.origin, i->first.second, reply_code::unavailable, why);
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
}

// The outlet of a remote session this actor made.
remote_outlet& outlet_of(const session& s) { return static_cast<remote_outlet&>(*s.out()); }

// Frees a remote session: its client is gone, so are the answers it was owed.
void free_remote_session(member_state& st, const session& s) {
  outlet_of(s).forgive();
  st.rt->close_remote_session(s);
}

// `draining`: the node unregistered and is finishing its requests, so those pending on it may
// still be answered; otherwise (evicted, or a Go master that does not say) they fail now.
void remove_member(self_ptr self, const std::string& address, bool draining) {
  auto& st = self->state;
  if (st.members.erase(address) == 0)
    return;
  log::info("member ", address, draining ? " left (draining)" : " left");
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
  if (auto* remote = dynamic_cast<const remote_outlet*>(s.out().get()))
    return {remote->gate(), remote->gate_session()};
  return {st.self.service_address, s.id()};
}

// The node for `service` for this session (see routing.hpp).
std::string choose_node(self_ptr self, const std::string& service, const session& origin,
                        const std::vector<std::string>& candidates) {
  auto& st = self->state;
  return detail::choose_node(service, origin, client_of(st, origin), candidates, st.members,
                             st.opts.route, st.rng);
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
  auto node = choose_node(self, service, f.origin, providers->second);
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
  // A call that fails (refused, unreachable, deadline) is answered here, and its pending
  // entry goes too: otherwise a flooding client would fill the table for a minute.
  caf::actor me = caf::actor_cast<caf::actor>(self);
  std::int64_t sid = gate_session; // structured bindings cannot be captured in C++17
  auto failed = [origin = f.origin, mid, node, route = msg.route, me, sid](const call_failure& err) {
    reply_failure(origin, mid, reply_code_of(err),
                  "node " + node + " did not take " + route + ": " + describe(err));
    if (mid != 0)
      caf::anon_send(me, response_seen_atom::value, sid, mid);
  };
  nanocaf::cluster::Envelope e;
  if (mid != 0) {
    auto& req = *e.mutable_request();
    req.set_gateaddr(gate);
    req.set_sessionid(gate_session);
    req.set_id(mid);
    req.set_route(std::move(msg.route));
    req.set_data(std::move(msg.payload));
  } else {
    auto& req = *e.mutable_notify();
    req.set_gateaddr(gate);
    req.set_sessionid(gate_session);
    req.set_route(std::move(msg.route));
    req.set_data(std::move(msg.payload));
  }
  caf::anon_send(peer(self, node), message_job(gate_session, std::move(e), std::move(failed)));
}

// The session standing for client (gate, gate session) on this node, created on first use.
const session& remote_session(self_ptr self, const std::string& gate, std::int64_t gate_session) {
  auto& st = self->state;
  auto key = std::make_pair(gate, gate_session);
  auto i = st.remote_sessions.find(key);
  if (i == st.remote_sessions.end()) {
    auto out = std::make_shared<remote_outlet>(gate, gate_session, peer(self, gate), st.board);
    i = st.remote_sessions.emplace(key, st.rt->open_remote_session(std::move(out))).first;
    publish(self);
  }
  return i->second;
}

void remote_in(self_ptr self, remote_in_msg& in) {
  auto& s = remote_session(self, in.gate, in.gate_session);
  if (in.msg.type == codec::message_type::request)
    outlet_of(s).request_arrived();
  self->state.rt->dispatch(s, std::move(in.msg));
}

void call_in(self_ptr self, call_in_msg& in) {
  std::optional<session> client;
  if (!in.gate.empty())
    client = remote_session(self, in.gate, in.gate_session);
  auto& rt = *self->state.rt;
  rt.dispatch(rt.open_call_session(std::move(client), std::move(in.done)), std::move(in.msg));
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
  std::string node;
  client_ref client;
  if (c.client) {
    node = choose_node(self, service, *c.client, providers->second);
    client = client_of(st, *c.client);
  } else {
    std::uniform_int_distribution<std::size_t> pick{0, providers->second.size() - 1};
    node = providers->second[pick(st.rng)];
  }
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
  job.start = [req = std::move(req), done, timeout](stubs& io, call_done finished) {
    async_call<nanocaf::cluster::CallRequest, nanocaf::cluster::CallReply>(
      io, timeout, req,
      [&io](auto* ctx, auto* rq, auto* rs, auto cb) {
        io.pick().peer->async()->Call(ctx, rq, rs, std::move(cb));
      },
      [done, finished](const grpc::Status& status, nanocaf::cluster::CallReply& reply) {
        if (status.ok())
          done({reply.code(), reply.error(), std::move(*reply.mutable_data()), reply.errorid()});
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
    [=](join_msg& j) { add_members(self, j.members); },
    [=](leave_atom, const std::string& address, bool draining) {
      remove_member(self, address, draining);
    },
    [=](local_closed_atom, std::int64_t sid) { local_closed(self, sid); },
    [=](remote_closed_atom, std::int64_t sid) { remote_closed(self, sid); },
    [=](response_seen_atom, std::int64_t sid, std::uint64_t mid) {
      self->state.pending.erase({sid, mid});
    },
  };
}

} // namespace

} // namespace nanocaf::cluster::detail

namespace nanocaf::cluster {

std::string route_by_client(const std::string&, const session&, const client_ref& client,
                            const std::vector<member_info>& candidates) {
  if (candidates.empty())
    return {};
  auto n = static_cast<std::int64_t>(candidates.size());
  return candidates[static_cast<std::size_t>(((client.session_id % n) + n) % n)].service_address;
}

} // namespace nanocaf::cluster

namespace nanocaf::cluster::detail {

caf::actor spawn_member(runtime& rt, const options& opts, member_info self_info,
                        std::shared_ptr<status_board> board,
                        std::shared_ptr<const node_security> security) {
  return rt.system().spawn(member_actor, &rt, opts, std::move(self_info), std::move(board),
                           std::move(security));
}

} // namespace nanocaf::cluster::detail
