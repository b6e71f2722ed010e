// The master actor: membership (spec 7.3, 7.4) without nano's failure modes. Fan-outs are
// asynchronous with deadlines, so one dead member never blocks another's registration or
// eviction; a member that registers again replaces its old record everywhere.
#include <chrono>
#include <map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "detail/actors.hpp"
#include "detail/convert.hpp"
#include "detail/peer.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::cluster::detail {

namespace {

using clock = std::chrono::steady_clock;

// A member as the master sees it. Its heartbeat period is what it announced (nanocaf
// members) or what its heartbeats show (Go nano nodes, which say nothing: until a gap has been
// seen, nano's default of 30 s), so each is evicted after eviction_misses of its own periods.
struct record {
  member_info info;
  clock::time_point last_heartbeat;
  std::optional<std::chrono::milliseconds> announced;
  std::chrono::milliseconds observed{30000};
  bool gap_seen = false;

  record() = default;
  record(member_info i, std::optional<std::chrono::milliseconds> a)
    : info(std::move(i)), last_heartbeat(clock::now()), announced(a) {}

  std::chrono::milliseconds period() const { return announced.value_or(observed); }

  void beat(std::optional<std::chrono::milliseconds> a) {
    auto now = clock::now();
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heartbeat);
    last_heartbeat = now;
    announced = a;
    if (a)
      return;
    // Smoothed, so that one late beat does not double the period.
    observed = gap_seen ? (observed * 3 + gap) / 4 : gap;
    gap_seen = true;
  }
};

struct master_state {
  options opts;
  member_info self;
  metrics::registry* registry = nullptr;
  std::shared_ptr<const node_security> security;
  std::shared_ptr<channel_keeper> channels; // of its bridges, for the stop
  metrics::gauge* registered = nullptr;
  metrics::counter* evictions = nullptr;
  caf::actor member; // this node's own member actor
  std::map<std::string, record> records; // other members, by address
  std::map<std::string, caf::actor> peers;
  static inline const char* name = "nanocaf.master";

  ~master_state() {
    for (auto& [addr, p] : peers)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }
};

using self_ptr = caf::stateful_actor<master_state>*;

const caf::actor& peer(self_ptr self, const std::string& address) {
  auto& st = self->state;
  auto i = st.peers.find(address);
  if (i == st.peers.end())
    i = st.peers.emplace(address, spawn_peer(self->system(), address,
                                   {st.opts.rpc_timeout, st.registry, st.security, nullptr,
                                    st.channels, st.opts.batches, caf::actor{},
                                    std::chrono::milliseconds{250}})).first;
  return i->second;
}

// NewMember{info} to every member but `info` itself, and to our own member actor.
void announce_join(self_ptr self, const member_info& info) {
  auto& st = self->state;
  caf::anon_send(st.member, join_msg{{info}});
  for (auto& [addr, rec] : st.records) {
    if (addr == info.service_address)
      continue;
    clusterpb::NewMemberRequest req;
    to_proto(info, *req.mutable_memberinfo());
    caf::anon_send(peer(self, addr), make_job<clusterpb::NewMemberResponse>(
                                       membership_queue, std::move(req), NANOCAF_CALL(member, NewMember),
                                       [addr = addr](const call_failure& err) {
                                         log::warn("NewMember to ", addr, " failed: ", describe(err));
                                       }));
  }
}

// DelMember{address} to every remaining member and our own member actor.
// `draining`: it unregistered and finishes its requests before exiting (nanocaf members tell
// each other with metadata; a Go member ignores it).
void announce_leave(self_ptr self, const std::string& address, bool draining) {
  auto& st = self->state;
  caf::anon_send(st.member, leave_atom::value, address, draining);
  call_metadata hint;
  if (draining)
    hint.emplace_back(leave_metadata_key, "drain");
  for (auto& [addr, rec] : st.records) {
    clusterpb::DelMemberRequest req;
    req.set_serviceaddr(address);
    caf::anon_send(peer(self, addr), make_job<clusterpb::DelMemberResponse>(
                                       membership_queue, std::move(req), NANOCAF_CALL(member, DelMember),
                                       [addr = addr](const call_failure& err) {
                                         log::warn("DelMember to ", addr, " failed: ", describe(err));
                                       },
                                       hint));
  }
}

// NewMember for every known node (the master included) to `address`: a member the master
// learned again from its heartbeat may have missed the nodes that joined meanwhile.
void introduce_all(self_ptr self, const std::string& address) {
  auto& st = self->state;
  std::vector<member_info> known{st.self};
  for (auto& [addr, rec] : st.records)
    if (addr != address)
      known.push_back(rec.info);
  for (auto& info : known) {
    clusterpb::NewMemberRequest req;
    to_proto(info, *req.mutable_memberinfo());
    caf::anon_send(peer(self, address), make_job<clusterpb::NewMemberResponse>(
                                          membership_queue, std::move(req), NANOCAF_CALL(member, NewMember),
                                          [address](const call_failure& err) {
                                            log::warn("NewMember to ", address, " failed: ", describe(err));
                                          }));
  }
}

void drop(self_ptr self, const std::string& address, const char* why) {
  auto& st = self->state;
  auto i = st.records.find(address);
  if (i == st.records.end())
    return;
  auto info = std::move(i->second.info);
  st.records.erase(i);
  st.registered->set(static_cast<std::int64_t>(st.records.size()));
  if (auto p = st.peers.find(address); p != st.peers.end()) {
    caf::anon_send_exit(p->second, caf::exit_reason::user_shutdown);
    st.peers.erase(p);
  }
  log::info("member ", address, " removed: ", why);
  announce_leave(self, address, std::string_view{why} == "unregistered");
  if (st.opts.on_unregister) {
    try {
      st.opts.on_unregister(info);
    } catch (const std::exception& e) {
      log::error("unregister callback threw: ", e.what());
    }
  }
}

caf::behavior master_actor(self_ptr self, options opts, member_info self_info, caf::actor member,
                           metrics::registry* registry,
                           std::shared_ptr<const node_security> security,
                           std::shared_ptr<channel_keeper> channels) {
  auto& st = self->state;
  st.registry = registry;
  st.security = std::move(security);
  st.channels = std::move(channels);
  st.registered = &registry->gauges("nanocaf_master_members",
                                     "Members registered with this master (itself excluded).")
                     .get();
  st.evictions =
    &registry->counters("nanocaf_master_evictions_total", "Members evicted for missed heartbeats.")
       .get();
  st.opts = std::move(opts);
  st.self = std::move(self_info);
  st.member = std::move(member);
  self->delayed_send(self, st.opts.heartbeat, evict_tick_atom::value);
  return {
    [=](register_req& r) {
      auto& st = self->state;
      auto& addr = r.info.service_address;
      if (addr.empty()) {
        r.reply(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "invalid register request"), {});
        return;
      }
      // A restart on the same address: the old process's routes and sessions go everywhere.
      if (st.records.count(addr))
        drop(self, addr, "registered again (restarted)");
      std::vector<member_info> others{st.self};
      for (auto& [a, rec] : st.records)
        others.push_back(rec.info);
      st.records[addr] = record{r.info, r.heartbeat};
      st.registered->set(static_cast<std::int64_t>(st.records.size()));
      log::info("member ", addr, " registered");
      announce_join(self, r.info);
      r.reply(grpc::Status::OK, others);
    },
    [=](unregister_req& r) {
      auto& st = self->state;
      if (!st.records.count(r.address)) {
        r.reply(grpc::Status(grpc::StatusCode::NOT_FOUND,
                             "address " + r.address + " has not registered"));
        return;
      }
      drop(self, r.address, "unregistered");
      r.reply(grpc::Status::OK);
    },
    [=](heartbeat_req& r) {
      auto& st = self->state;
      auto i = st.records.find(r.info.service_address);
      if (i != st.records.end()) {
        i->second.beat(r.heartbeat);
      } else if (!r.info.service_address.empty()) {
        // Unknown: this master restarted, or evicted a member that was only paused.
        st.records[r.info.service_address] = record{r.info, r.heartbeat};
        st.registered->set(static_cast<std::int64_t>(st.records.size()));
        log::info("member ", r.info.service_address, " known again from its heartbeat");
        announce_join(self, r.info);
        introduce_all(self, r.info.service_address);
      }
      r.reply(grpc::Status::OK);
    },
    [=](evict_tick_atom) {
      auto& st = self->state;
      // Judged by each member's own period, so a Go node beating every 30 s is not evicted
      // by a master tuned for faster nanocaf members, and one beating every 10 s is not kept
      // for two minutes.
      auto now = clock::now();
      std::vector<std::string> silent;
      for (auto& [addr, rec] : st.records)
        if (now - rec.last_heartbeat > rec.period() * st.opts.eviction_misses)
          silent.push_back(addr);
      for (auto& addr : silent) {
        st.evictions->inc();
        drop(self, addr, "evicted: no heartbeat");
      }
      self->delayed_send(self, st.opts.heartbeat, evict_tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_master(caf::actor_system& sys, const options& opts, member_info self_info,
                        caf::actor member, metrics::registry& registry,
                        std::shared_ptr<const node_security> security,
                        std::shared_ptr<channel_keeper> channels) {
  return sys.spawn(master_actor, opts, std::move(self_info), std::move(member), &registry,
                   std::move(security), std::move(channels));
}

} // namespace nanocaf::cluster::detail
