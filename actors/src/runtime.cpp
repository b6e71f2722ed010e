#include "nanocaf/runtime.hpp"

#include <cxxabi.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <iterator>
#include <set>
#include <stdexcept>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "detail/actors.hpp"
#include "detail/call_outlet.hpp"
#include "detail/messages.hpp"
#include "detail/rate_limiter.hpp"
#include "detail/session_core.hpp"
#include "detail/shared_queue_scheduler.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/wiring/client_state.hpp"
#include "nanocaf/wiring/runtime.hpp"

namespace nanocaf {

namespace {

// The cores this process may run on (taskset and cpusets narrow it), not the machine's.
std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0)
    return std::thread::hardware_concurrency();
  return static_cast<std::size_t>(CPU_COUNT(&set));
}

// CAF 0.17 defaults to max(cores, 4) workers; on small machines that only adds switching.
std::size_t worker_count(std::size_t wanted) {
  if (wanted != 0)
    return wanted;
  auto cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : cores;
}

// Hands a connection's packets to its session. On the Asio thread, so it runs no user code:
// Data of a Working session without inbound hooks is decoded here and goes straight to the
// component actor (one actor hop per request instead of two); everything else, and anything
// after a packet that must go to the session actor, goes to the session actor in order.
class actor_inbound final : public wiring::inbound {
public:
  actor_inbound(caf::actor session, std::shared_ptr<detail::session_core> core)
    : session_(std::move(session)),
      core_(std::move(core)),
      limiter_(core_->ctx->options.rate_limit,
               core_->ctx->options.rate_burst > 0 ? core_->ctx->options.rate_burst
                                                  : 2 * core_->ctx->options.rate_limit) {}

  bool control_frames(std::size_t n) override {
    return within_rate(n, std::chrono::steady_clock::now());
  }

  void deliver(std::vector<codec::packet>& packets) override {
    auto& core = *core_;
    struct clear_on_exit { // every packet is taken, whichever way this returns
      std::vector<codec::packet>& v;
      ~clear_on_exit() { v.clear(); }
    } taken{packets};
    auto now = std::chrono::steady_clock::now(); // one clock read per batch, for both uses
    if (!within_rate(packets.size(), now))
      return;
    core.last_activity_ms.store(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count(),
      std::memory_order_relaxed);
    std::size_t i = 0;
    auto* hooks = core.ctx->hooks();
    bool fast = (hooks == nullptr || hooks->inbound.empty())
                && core.working.load(std::memory_order_acquire)
                && core.batches_at_actor.load(std::memory_order_acquire) == 0;
    for (; fast && i < packets.size(); ++i) {
      auto& p = packets[i];
      if (p.type == codec::packet_type::heartbeat)
        continue; // activity only, recorded above
      if (p.type != codec::packet_type::data)
        break;
      codec::message msg;
      // On failure the body is left as it was: the session actor reports it and closes.
      if (codec::decode_message(std::move(p.body), &core.ctx->options.dictionary, msg)
          != codec::error::none)
        break;
      if (msg.type != codec::message_type::request && msg.type != codec::message_type::notify)
        continue; // a Response or Push from a client: dropped, as on the slow path
      detail::dispatch(core_, std::move(msg));
    }
    if (i == packets.size())
      return;
    auto first = packets.begin() + static_cast<std::ptrdiff_t>(i);
    std::vector<codec::packet> rest(std::make_move_iterator(first),
                                    std::make_move_iterator(packets.end()));
    core.batches_at_actor.fetch_add(1, std::memory_order_acq_rel);
    caf::anon_send(session_, std::move(rest));
  }
  void closed(std::string reason) override {
    caf::anon_send(session_, detail::conn_closed_atom::value, std::move(reason));
  }

private:
  // Takes `n` packets from the budget; past it, kicks the client once (one log line) and
  // drops what follows.
  bool within_rate(std::size_t n, std::chrono::steady_clock::time_point now) {
    if (!over_rate_ && limiter_.take(n, now))
      return true;
    if (!over_rate_) {
      over_rate_ = true;
      auto& core = *core_;
      core.ctx->stats->rate_limited.inc();
      log::warn("session ", core.id, " (", core.out->remote_address(), "): kicked: more than ",
                core.ctx->options.rate_limit, " packets per second");
      core.out->kick(make_kick_packet("rate limit exceeded"));
    }
    return false;
  }

public:
  void failed(std::string reason) override {
    caf::anon_send(session_, detail::conn_failed_atom::value, std::move(reason));
  }

private:
  caf::actor session_;
  std::shared_ptr<detail::session_core> core_;
  detail::rate_limiter limiter_; // deliver() runs on the connection's strand only
  bool over_rate_ = false;
};

} // namespace

struct runtime::impl {
  struct registered {
    std::shared_ptr<component> comp;
    caf::actor actor;
  };

  explicit impl(runtime_options opts) : ctx(std::make_shared<detail::node_context>()) {
    ctx->options = std::move(opts);
    ctx->registry = ctx->options.metrics ? ctx->options.metrics
                                         : std::make_shared<metrics::registry>();
    ctx->stats = std::make_unique<detail::node_metrics>(*ctx->registry);
    cfg.set("scheduler.max-threads", worker_count(ctx->options.worker_threads));
    auto& policy = ctx->options.scheduler_policy;
    if (policy != "auto" && policy != "sharing" && policy != "io" && policy != "stealing")
      throw std::invalid_argument("scheduler policy must be auto, sharing, io or stealing");
    if (policy == "auto")
      policy = usable_cores() == 1                          ? "io"
               : std::thread::hardware_concurrency() <= 4 ? "sharing"
                                                            : "stealing";
    if (policy == "sharing" || policy == "io")
      cfg.module_factories.push_back(&detail::make_shared_queue_scheduler);
    // Actors are only spawned on start(); the system itself is cheap to create.
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  // Runs one lifecycle stage on every component, in the given order, waiting for each.
  // Stops at the first component whose hook throws and returns "<component>: <stage> failed:
  // <reason>"; empty when every one ran.
  template <class It>
  std::string lifecycle(It first, It last, detail::lifecycle_stage stage) {
    static const char* stage_names[] = {"init", "after_init", "before_shutdown", "shutdown"};
    caf::scoped_actor self{*sys};
    std::string failure;
    for (auto i = first; i != last && failure.empty(); ++i) {
      if (!i->actor)
        continue;
      std::string reason;
      self->request(i->actor, caf::infinite, detail::lifecycle_atom::value, stage)
        .receive([&](std::string& r) { reason = std::move(r); },
                 [&](caf::error& e) { reason = sys->render(e); });
      if (!reason.empty())
        failure = "component '" + i->comp->name() + "': "
                  + stage_names[static_cast<int>(stage)] + " failed: " + reason;
    }
    return failure;
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys; // destroyed last (see ~runtime)
  std::shared_ptr<detail::node_context> ctx;
  std::vector<registered> components;
  std::vector<component_options> options;
  caf::actor clock; // the session clock (heartbeats, handshake timeouts)
  detail::job_host_port* host_port = nullptr; // set once a loop hosts the actors (policy io)
  bool started = false;
  bool stopped = false;
  std::size_t initialized = 0; // components whose init ran: the ones stop() shuts down
};

runtime::runtime(runtime_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

runtime::~runtime() {
  stop();
  impl_->components.clear();
  impl_->ctx.reset();
  impl_->sys.reset(); // waits for every actor: all handles are gone by now
}

void runtime::add(std::shared_ptr<component> c, component_options options) {
  if (impl_->started)
    throw std::logic_error("runtime::add after start");
  impl_->components.push_back({std::move(c), {}});
  impl_->options.push_back(std::move(options));
}

void runtime::start() {
  auto& d = *impl_;
  if (d.started)
    return;
  d.started = true;
  auto& ctx = *d.ctx;
  ctx.node_id = static_cast<std::uint16_t>(ctx.options.node_id.value_or(getpid() % 1024) % 1024);
  // Handlers first, so that a bad registration fails before any actor runs.
  std::set<std::string> names;
  for (std::size_t i = 0; i < d.components.size(); ++i) {
    auto& comp = *d.components[i].comp;
    auto& opts = d.options[i];
    comp.set_name(opts.name.empty() ? std::string{"component"} : opts.name);
    comp.set_runtime(this);
    comp.setup();
    if (opts.name_func)
      comp.rename_handlers(opts.name_func);
    if (comp.handlers().empty())
      throw std::invalid_argument("component '" + comp.name() + "' has no handlers");
    if (!names.insert(comp.name()).second)
      throw std::invalid_argument("handler: service already defined: " + comp.name());
  }
  for (auto& r : d.components) {
    r.actor = d.sys->spawn(detail::service_actor, r.comp);
    for (std::uint32_t h = 0; h < r.comp->handlers().size(); ++h) {
      auto route = r.comp->name() + "." + r.comp->handlers()[h].name;
      ctx.routes[route] = {r.actor, h, &ctx.stats->route(route), r.comp->handlers()[h].internal};
    }
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto hs = std::make_shared<std::string>();
  codec::encode_packet(codec::packet_type::handshake,
                       detail::handshake_response_json(
                         ctx.options, std::chrono::duration_cast<std::chrono::seconds>(now).count()),
                       *hs);
  ctx.handshake_response = std::move(hs);
  auto hb = std::make_shared<std::string>();
  codec::encode_packet(codec::packet_type::heartbeat, "", *hb);
  ctx.heartbeat_packet = std::move(hb);

  // Hooks registered in setup; from here on on_session_closed adds them directly.
  {
    std::vector<detail::closed_hook> hooks;
    for (auto& r : d.components)
      for (auto& fn : r.comp->session_closed_hooks())
        hooks.push_back({r.actor, fn});
    ctx.set_closed_hooks(std::move(hooks));
  }
  // One component at a time, so that a failure knows which ones ran their init: only those
  // are shut down again (in reverse order), never one whose init did not run or failed.
  for (auto stage : {detail::lifecycle_stage::init, detail::lifecycle_stage::after_init}) {
    if (stage == detail::lifecycle_stage::after_init)
      d.initialized = d.components.size();
    for (std::size_t i = 0; i < d.components.size(); ++i) {
      auto at = d.components.begin() + static_cast<std::ptrdiff_t>(i);
      auto failure = d.lifecycle(at, std::next(at), stage);
      if (failure.empty())
        continue;
      log::error(failure);
      if (stage == detail::lifecycle_stage::init)
        d.initialized = i;
      stop();
      throw std::runtime_error(failure);
    }
  }
  d.clock = d.sys->spawn(detail::session_clock, d.ctx);
}

void runtime::add_session_closed_hook(const caf::actor& owner,
                                      std::function<void(const session&)> fn) {
  impl_->ctx->add_closed_hook({owner, std::move(fn)});
}

bool runtime::started() const noexcept { return impl_->started; }

void runtime::stop() {
  auto& d = *impl_;
  if (!d.started || d.stopped)
    return;
  d.stopped = true;
  if (d.clock)
    caf::anon_send_exit(d.clock, caf::exit_reason::user_shutdown);
  d.clock = nullptr;
  {
    std::lock_guard<std::mutex> guard{d.ctx->sessions_mu};
    for (auto& [id, live] : d.ctx->sessions)
      caf::anon_send_exit(live.actor, caf::exit_reason::user_shutdown);
    d.ctx->stats->sessions.sub(static_cast<std::int64_t>(d.ctx->sessions.size()));
    d.ctx->sessions.clear();
  }
  for (auto stage : {detail::lifecycle_stage::before_shutdown, detail::lifecycle_stage::shutdown}) {
    // Every component gets its turn: one that fails is logged, the others still stop.
    auto skipped = d.components.size() - std::min(d.initialized, d.components.size());
    for (auto i = d.components.rbegin() + static_cast<std::ptrdiff_t>(skipped);
         i != d.components.rend(); ++i) {
      auto failure = d.lifecycle(i, std::next(i), stage);
      if (!failure.empty())
        log::error(failure);
    }
  }
  for (auto& r : d.components) {
    caf::anon_send_exit(r.actor, caf::exit_reason::user_shutdown);
    r.actor = nullptr;
  }
  // The route table stays: gateway and cluster threads may still read it (they are stopped
  // first when the order is right, but a wrong order must not be a data race). What reaches
  // an ended service actor now is dropped; its sessions are closing.
  d.ctx->set_closed_hooks({});
}

// The wiring's way to the runtime's state (a friend of runtime).
struct wiring::runtime_access {
  static runtime::impl& of(runtime& rt) noexcept { return *rt.impl_; }
};

namespace wiring {

std::unique_ptr<inbound> open_session(runtime& rt, std::shared_ptr<outlet> out) {
  auto& d = runtime_access::of(rt);
  auto& ctx = d.ctx;
  auto core = std::make_shared<detail::session_core>(ctx->next_session_id(), std::move(out), ctx);
  auto id = core->id;
  auto actor = detail::spawn_session_actor(*d.sys, core);
  {
    std::lock_guard<std::mutex> guard{ctx->sessions_mu};
    if (d.stopped) {
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    } else {
      // Its heartbeat and handshake periods start now (the session clock reads these).
      core->opened_ms = detail::now_ms();
      core->next_beat_ms = core->opened_ms + ctx->options.heartbeat.count();
      ctx->sessions.emplace(id, detail::live_session{actor, core});
      ctx->stats->sessions.add();
    }
  }
  return std::make_unique<actor_inbound>(std::move(actor), std::move(core));
}

void set_remote_router(runtime& rt, std::shared_ptr<remote_router> router) {
  auto& d = runtime_access::of(rt);
  if (d.started)
    throw std::logic_error("set_remote_router after the runtime started");
  d.ctx->router = std::move(router);
}

session open_remote_session(runtime& rt, std::shared_ptr<outlet> out) {
  auto& ctx = runtime_access::of(rt).ctx;
  return detail::make_session(
    std::make_shared<detail::session_core>(ctx->next_session_id(), std::move(out), ctx));
}

void dispatch(runtime&, const session& s, codec::message msg) {
  detail::dispatch(detail::core_of(s), std::move(msg));
}

void close_remote_session(runtime&, const session& s) { detail::fire_closed(detail::core_of(s)); }

bool with_session(runtime& rt, std::int64_t id, std::function<void(const session&)> op) {
  auto& ctx = runtime_access::of(rt).ctx;
  caf::actor target;
  {
    std::lock_guard<std::mutex> guard{ctx->sessions_mu};
    auto i = ctx->sessions.find(id);
    if (i == ctx->sessions.end())
      return false;
    target = i->second.actor;
  }
  caf::anon_send(target, detail::session_task_msg{std::move(op)});
  return true;
}

session open_call_session(runtime& rt, std::optional<session> client, call_handler done) {
  auto payer = client ? detail::core_of(*client) : nullptr;
  std::optional<client_state> state;
  if (client)
    state = snapshot(*client); // the handler sees the client's state
  auto out = std::make_shared<detail::call_outlet>(std::move(client), std::move(done));
  auto s = open_remote_session(rt, std::move(out));
  if (state)
    adopt(s, *state);
  auto& core = detail::core_of(s);
  core->internal_caller = true; // a component's call: server-only handlers take it
  core->fanout_payer = std::move(payer);
  return s;
}

bool host_actors(runtime& rt, std::function<void()> wake) {
  auto& d = runtime_access::of(rt);
  if (d.ctx->options.scheduler_policy != "io")
    return false;
  auto* port = detail::job_host_port_of(*d.sys);
  if (port == nullptr || !port->host(std::move(wake)))
    return false;
  d.host_port = port;
  return true;
}

void run_hosted_actors(runtime& rt) { runtime_access::of(rt).host_port->run_hosted(); }

void unhost_actors(runtime& rt) {
  auto& d = runtime_access::of(rt);
  if (d.host_port != nullptr)
    d.host_port->unhost();
}

} // namespace wiring

void runtime::call(std::optional<session> client, const std::string& route, std::string payload,
                   std::chrono::milliseconds timeout, call_handler done) {
  if (auto* caller = detail::current_component_actor()) {
    // Back to the caller's actor: its state needs no lock there, and a callback that throws
    // is caught like any task of its component.
    done = [owner = *caller, done = std::move(done)](call_reply r) {
      caf::anon_send(owner, detail::task_msg{[done, r = std::move(r)] { done(r); }});
    };
  }
  call_from_anywhere(std::move(client), route, std::move(payload), timeout, std::move(done));
}

void runtime::call_from_anywhere(std::optional<session> client, const std::string& route,
                                 std::string payload, std::chrono::milliseconds timeout,
                                 call_handler done) {
  codec::message msg{codec::message_type::request, 1, route, std::move(payload), false};
  if (has_route(route)) {
    wiring::dispatch(*this, wiring::open_call_session(*this, std::move(client), std::move(done)),
                     std::move(msg));
    return;
  }
  if (auto& router = impl_->ctx->router) {
    router->call(client, std::move(msg), timeout, std::move(done));
    return;
  }
  done({reply_code::route_not_found, "route not found: " + route, {}, {}});
}

bool runtime::has_route(const std::string& route) const {
  return impl_->ctx->routes.count(route) != 0;
}

std::vector<std::string> runtime::services() const {
  std::set<std::string> names;
  for (auto& r : impl_->components)
    names.insert(r.comp->name());
  return {names.begin(), names.end()};
}

bool runtime::invoke(const std::string& service, std::function<void()> fn) {
  for (auto& r : impl_->components)
    if (r.comp->name() == service && r.actor) {
      caf::anon_send(r.actor, detail::task_msg{std::move(fn)});
      return true;
    }
  return false;
}

std::size_t runtime::live_sessions() const noexcept {
  std::lock_guard<std::mutex> guard{impl_->ctx->sessions_mu};
  return impl_->ctx->sessions.size();
}

std::vector<std::string> runtime::routes() const {
  std::vector<std::string> out;
  for (auto& [route, target] : impl_->ctx->routes)
    out.push_back(route);
  std::sort(out.begin(), out.end());
  return out;
}

const runtime_options& runtime::options() const noexcept { return impl_->ctx->options; }

metrics::registry& runtime::metrics() noexcept { return *impl_->ctx->registry; }

caf::actor_system& runtime::system() { return *impl_->sys; }

std::string runtime::default_service_name(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled{
    abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free};
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  if (auto colon = name.rfind("::"); colon != std::string::npos)
    name.erase(0, colon + 2); // Go uses the bare type name
  return name;
}

} // namespace nanocaf
