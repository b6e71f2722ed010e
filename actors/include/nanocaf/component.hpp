// A component is an actor behaviour: named handlers plus lifecycle hooks. Each component runs on
// its own CAF actor, so its handlers, timers and invoked tasks run one at a time and its state
// needs no locks, while different components run in parallel.
//
//   struct room : nanocaf::component {
//     void setup() override { handle("join", &room::join); }
//     nlohmann::json join(nanocaf::session& s, const nanocaf::bytes&) { return {{"code", 0}}; }
//   };
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "nanocaf/call.hpp"
#include "nanocaf/metrics.hpp"
#include "nanocaf/session.hpp"

namespace caf {
class event_based_actor;
} // namespace caf

namespace nanocaf {

namespace detail {
class service_host;
/// The node's runtime_options::max_json_depth, for decoding a handler's payload.
std::size_t max_json_depth(const session& s) noexcept;
/// Logs that the reply of a typed call to `route` did not decode; returns the error id.
std::string log_call_decode_failure(const std::string& route, const char* what);

/// The argument of a handler that takes no payload: nothing is decoded for it.
struct no_payload {};

template <class S>
inline constexpr bool is_session_param_v =
  std::is_same_v<S, session&> || std::is_same_v<S, const session&>;

// What a handler signature R(S, A) or R(S) means; `valid` only with S a session reference.
struct not_a_handler {
  static constexpr bool valid = false;
  static constexpr bool takes_payload = false;
  using result = void;
  using arg = no_payload;
};
template <class Sig>
struct signature_traits : not_a_handler {};
template <class R, class S, class A>
struct signature_traits<R(S, A)> {
  static constexpr bool valid = is_session_param_v<S> && !std::is_rvalue_reference_v<A>;
  static constexpr bool takes_payload = true;
  using result = R;
  using arg = std::decay_t<A>;
};
template <class R, class S>
struct signature_traits<R(S)> {
  static constexpr bool valid = is_session_param_v<S>;
  static constexpr bool takes_payload = false;
  using result = R;
  using arg = no_payload;
};

// A handler's signature, whether a lambda (non-generic), a function pointer or a member
// function; `owner` is the member function's class (const for const members).
template <class F, class = void>
struct handler_traits : not_a_handler {};
template <class F>
struct handler_traits<F, std::void_t<decltype(&F::operator())>>
  : handler_traits<decltype(&F::operator())> {};
template <class R, class... As>
struct handler_traits<R (*)(As...), void> : signature_traits<R(As...)> {};
template <class C, class R, class... As>
struct handler_traits<R (C::*)(As...), void> : signature_traits<R(As...)> {
  using owner = C;
};
template <class C, class R, class... As>
struct handler_traits<R (C::*)(As...) const, void> : signature_traits<R(As...)> {
  using owner = const C;
};
template <class R, class... As>
struct handler_traits<R (*)(As...) noexcept, void> : signature_traits<R(As...)> {};
template <class C, class R, class... As>
struct handler_traits<R (C::*)(As...) noexcept, void> : signature_traits<R(As...)> {
  using owner = C;
};
template <class C, class R, class... As>
struct handler_traits<R (C::*)(As...) const noexcept, void> : signature_traits<R(As...)> {
  using owner = const C;
};
} // namespace detail

using timer_id = std::uint64_t;
using duration = std::chrono::milliseconds;

class component {
public:
  virtual ~component();

  /// Registers the handlers (called once, before init).
  virtual void setup() = 0;
  // Lifecycle, on the component's actor: init and after_init in registration order at start,
  // before_shutdown then shutdown in reverse order at stop.
  virtual void init() {}
  virtual void after_init() {}
  virtual void before_shutdown() {}
  virtual void shutdown() {}

  /// Service name (routes are "<name>.<handler>"), set by the node from the registration options.
  const std::string& name() const noexcept { return name_; }

  // -- available once the component runs on its actor (from init on) -------------------
  /// Runs `fn` every `interval` until cancelled.
  timer_id every(duration interval, std::function<void()> fn);
  /// Runs `fn` once after `delay`.
  timer_id after(duration delay, std::function<void()> fn);
  /// Runs `fn` `times` times, `interval` apart.
  timer_id count(duration interval, std::size_t times, std::function<void()> fn);
  /// Runs `fn` every `interval` until `done()` returns true (checked before each run).
  timer_id until(duration interval, std::function<bool()> done, std::function<void()> fn);
  /// Stops a timer; it does not fire again. Unknown or finished ids are ignored.
  void cancel(timer_id id);
  std::size_t active_timers() const noexcept;

  /// Runs `fn` on this component's actor. Thread-safe: callable from any thread (nano's
  /// scheduler.PushTask, but per component).
  void invoke(std::function<void()> fn) const;

  /// Calls the handler of `route`, on this node or another, and runs `done` on this
  /// component's actor with its reply: the value it returned, or an error (504 when no reply
  /// came within `timeout`). Pass a client session to make the call on its behalf: the
  /// handler's pushes then reach that client.
  template <class T>
  void call(const std::string& route, const T& arg, duration timeout,
            std::function<void(const call_reply&)> done) {
    call_payload(std::nullopt, route, encode_payload(call_format(), arg), timeout, std::move(done));
  }
  template <class T>
  void call(const session& client, const std::string& route, const T& arg, duration timeout,
            std::function<void(const call_reply&)> done) {
    call_payload(client, route, encode_payload(client.serializer(), arg), timeout, std::move(done));
  }
  void call_payload(std::optional<session> client, const std::string& route, std::string payload,
                    duration timeout, std::function<void(const call_reply&)> done);

  /// Typed calls: `done` gets the reply decoded as R (nlohmann::json, a protobuf message, a
  /// type with from_json, or bytes), or an error: the callee's code and text, 404 for no such
  /// route, 503 / 504 when its node cannot be reached or does not answer in time, 500 when the
  /// reply does not decode as R (the detail logged under the error id). On this actor.
  ///
  ///   call<room_state>("room.state", json{{"room", 42}}, 2s, [this](const call_result<room_state>& r) {
  ///     if (r.ok()) show(*r.value); else log_failure(r.code, r.error);
  ///   });
  template <class R, class T>
  void call(const std::string& route, const T& arg, duration timeout,
            std::function<void(const call_result<R>&)> done) {
    call_payload(std::nullopt, route, encode_payload(call_format(), arg), timeout,
                 typed_completion<R>(route, call_format(), std::move(done)));
  }
  template <class R, class T>
  void call(const session& client, const std::string& route, const T& arg, duration timeout,
            std::function<void(const call_result<R>&)> done) {
    call_payload(client, route, encode_payload(client.serializer(), arg), timeout,
                 typed_completion<R>(route, client.serializer(), std::move(done)));
  }

  /// Runs `fn` on this component's actor whenever any session of the node closes.
  void on_session_closed(std::function<void(const session&)> fn);

  /// The node's metrics (served by the metrics endpoint): register your own series in init().
  metrics::registry& metrics() const;

  /// The actor this component runs on, for code that wants CAF directly.
  caf::event_based_actor* self() const noexcept { return self_; }

protected:
  /// Registers a handler: a lambda, a function or a member function `R(session&, const Arg&)`
  /// or `R(session&)` (it ignores the payload); `const session&` works too. Arg is
  /// nanocaf::bytes (raw payload), a protobuf message, nlohmann::json, or any type with
  /// from_json (a struct made with NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE needs every field in the
  /// payload; ..._WITH_DEFAULT takes missing ones from a default-constructed value). A
  /// non-void R is sent as the response when the message is a request. Any other signature
  /// stops the build with one static_assert that lists these forms.
  template <class F>
  void handle(std::string name, F fn) {
    add(std::move(name), std::move(fn), false);
  }
  /// A server-only handler (pitaya's remote): reachable by call() from any component on any
  /// node, never by a client, which gets the same 404 as for a route that does not exist.
  template <class F>
  void handle_internal(std::string name, F fn) {
    add(std::move(name), std::move(fn), true);
  }

private:
  template <class F>
  void add(std::string name, F fn, bool internal) {
    using traits = detail::handler_traits<F>;
    static_assert(traits::valid,
                  "nanocaf: a handler is `R(session&, const Arg&)` or `R(session&)` (no payload), "
                  "as a lambda, a function or a member function of the component; the session "
                  "may be `const session&`. Arg: nanocaf::bytes (raw), nlohmann::json, a protobuf "
                  "message or a type with from_json. R: void (no response) or a value to answer "
                  "with (bytes, json, protobuf or a type with to_json). Generic lambdas (auto "
                  "parameters) cannot be told apart: name the types.");
    if constexpr (traits::valid) {
      using arg = typename traits::arg;
      using R = typename traits::result;
      if constexpr (std::is_member_function_pointer_v<F>) {
        auto* obj = static_cast<typename traits::owner*>(this);
        add_handler<arg, R>(std::move(name), internal, [obj, fn](session& s, arg& a) -> R {
          if constexpr (traits::takes_payload)
            return (obj->*fn)(s, a);
          else
            return (obj->*fn)(s);
        });
      } else {
        add_handler<arg, R>(std::move(name), internal,
                            [fn = std::move(fn)](session& s, arg& a) -> R {
          if constexpr (traits::takes_payload)
            return fn(s, a);
          else
            return fn(s);
        });
      }
    }
  }

private:
  // What the runtime and the component's actor use; users never need it.
  friend class runtime;
  friend class detail::service_host;

  // Decodes the payload, calls the handler and, for a request whose handler returns a value,
  // sends that value as the response. Throws payload_error or whatever the handler throws.
  using invoker = std::function<void(session&, std::string&& payload)>;

  struct handler_entry {
    std::string name;
    invoker call;
    bool internal = false; // server-only: clients get 404, components may call it
  };

  const std::vector<handler_entry>& handlers() const noexcept { return handlers_; }
  const std::vector<std::function<void(const session&)>>& session_closed_hooks() const noexcept {
    return closed_hooks_;
  }
  void set_name(std::string name) { name_ = std::move(name); }
  void set_runtime(class runtime* rt) noexcept { runtime_ = rt; }
  // Applies a handler-name function (nano's WithNameFunc) to every handler name.
  void rename_handlers(const std::function<std::string(const std::string&)>& fn) {
    for (auto& h : handlers_)
      h.name = fn(h.name);
  }


  template <class Arg, class R, class Call>
  void add_handler(std::string name, bool internal, Call call) {
    handlers_.push_back({std::move(name), [call = std::move(call)](session& s,
                                                                  std::string&& payload) {
                           Arg arg{};
                           if constexpr (std::is_same_v<Arg, detail::no_payload>)
                             (void)payload; // the handler takes none: nothing to decode
                           else
                             decode_payload(s.serializer(), std::move(payload), arg,
                                            detail::max_json_depth(s));
                           if constexpr (std::is_void_v<R>) {
                             call(s, arg);
                           } else {
                             R result = call(s, arg);
                             if (s.last_mid() == 0)
                               return;
                             if constexpr (std::is_reference_v<R>)
                               s.response(result); // the handler's object: not ours to move
                             else
                               s.response(std::move(result)); // bytes go out uncopied
                           }
                         },
                         internal});
  }

  template <class R>
  static std::function<void(const call_reply&)>
  typed_completion(std::string route, serializer_kind kind,
                   std::function<void(const call_result<R>&)> done) {
    return [route = std::move(route), kind, done = std::move(done)](const call_reply& r) {
      call_result<R> out;
      out.code = r.code;
      out.error = r.error;
      out.error_id = r.error_id;
      if (r.ok()) {
        try {
          R value{};
          decode_payload(kind, std::string{r.data}, value);
          out.value = std::move(value);
        } catch (const payload_error& e) {
          out.code = reply_code::handler_failed;
          out.error = generic_error_text(out.code);
          out.error_id = detail::log_call_decode_failure(route, e.what());
        }
      }
      done(out);
    };
  }

  std::string name_;
  std::vector<handler_entry> handlers_;
  std::vector<std::function<void(const session&)>> closed_hooks_;
  serializer_kind call_format() const noexcept;

  caf::event_based_actor* self_ = nullptr;
  std::shared_ptr<detail::service_host> host_;
  class runtime* runtime_ = nullptr;
};

/// Registration options (nano's component.WithName / WithNameFunc).
struct component_options {
  std::string name;                                      // service name; default: type name
  std::function<std::string(const std::string&)> name_func; // applied to handler names only
};

inline component_options with_name(std::string name) { return {std::move(name), {}}; }

/// Lower-cases a handler name: the usual name function (nano's chat uses strings.ToLower).
std::string to_lower(const std::string& s);

} // namespace nanocaf
