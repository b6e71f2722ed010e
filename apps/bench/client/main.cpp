// nanocaf-bench: a load client for nanocaf, nano and pomelo-protocol servers. One thread, one
// io_context, many connections over TCP or WebSocket.
//
//   nanocaf-bench --url tcp://127.0.0.1:3250 --mode echo --conns 100 --duration 10
//   nanocaf-bench --url tcp://127.0.0.1:3250 --route bench.echojson --payload '{"msg":"hi"}'
//   nanocaf-bench --url tcp://127.0.0.1:3250 --mode echo --conns 1000 --rate 20000   (open loop)
//   nanocaf-bench --url ws://127.0.0.1:3251/nano --mode broadcast --conns 1000 --rate 50 --non-readers 0.1 --pid PID
//   nanocaf-bench --url tcp://127.0.0.1:3250 --mode idle --conns 10000 --duration 600 --pid PID
//   nanocaf-bench --url tcp://127.0.0.1:3250 --mode connect --conns 5000      (all at once)
//
// Modes: echo (closed loop, --window requests in flight per connection, on --route; or, with
// --rate, open loop: that many requests a second over all connections, whether or not the
// replies keep up, each timed from when it was due), broadcast
// (everyone requests --join-route, bench.join; connection 0 requests --broadcast-route,
// bench.broadcast, --rate times a second; every reader must get each --push-route push,
// onBroadcast, whose body carries the request's "t"; --non-readers of them stop reading after joining),
// idle (connect, answer heartbeats, hold, count drops), connect (all connect at once; time until
// every handshake is done). Echo reports the replies per connection (min, median, max): how
// evenly the server served its clients. --pid samples the server's RSS every second. --json FILE appends the
// results as one JSON line.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "../../common/client_url.hpp"
#include "../../common/flags.hpp"
#include "bench_connection.hpp"
#include "latency_histogram.hpp"

namespace {

using namespace nanocaf::bench;
namespace asio = boost::asio;
using json = nlohmann::json;

std::int64_t micros_since(clock::time_point origin) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - origin).count();
}

long rss_kib(int pid) {
  if (pid <= 0)
    return 0;
  std::ifstream statm{"/proc/" + std::to_string(pid) + "/statm"};
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4;
}

target parse_target(const std::string& url) {
  auto u = nanocaf::apps::parse_client_url(url);
  if (u.tls())
    throw std::invalid_argument("nanocaf-bench speaks tcp:// and ws:// only");
  target t;
  t.websocket = u.websocket();
  t.host = u.host + ":" + u.port;
  t.path = u.path;
  t.endpoint = {asio::ip::make_address(u.host),
                static_cast<unsigned short>(std::stoi(u.port))};
  return t;
}

struct settings {
  std::string mode;
  std::size_t conns;
  double duration, warmup, rate, non_readers;
  std::size_t window, size;
  std::string route;
  int pid;
  std::string payload; // echo: the body; empty: `size` bytes of 'x'
  std::string join_route, broadcast_route, push_route; // broadcast
};

class driver {
public:
  driver(asio::io_context& ioc, target where, settings s)
    : ioc_(ioc), where_(std::move(where)), s_(std::move(s)), ticker_(ioc), phase_timer_(ioc),
      rss_timer_(ioc) {
    events_.ready = [this](std::size_t i) { on_ready(i); };
    events_.failed = [this](std::size_t, const std::string& why) {
      ++failed_;
      last_error_ = why;
      check_all_started();
    };
    events_.dropped = [this](std::size_t, const std::string& why) {
      ++dropped_;
      last_error_ = why;
    };
    events_.message = [this](std::size_t i, const nanocaf::codec::message& m) { on_message(i, m); };
    pad_.assign(s_.size, 'x');
    echo_body_ = s_.payload.empty() ? pad_ : s_.payload;
    if (s_.non_readers > 0)
      every_nth_silent_ = std::max<std::size_t>(2, static_cast<std::size_t>(1 / s_.non_readers + 0.5));
  }

  void run() {
    rss_before_ = rss_kib(s_.pid);
    origin_ = clock::now();
    pending_.resize(s_.conns);
    replies_.resize(s_.conns);
    for (std::size_t i = 0; i < s_.conns; ++i) {
      conns_.push_back(std::make_shared<bench_connection>(ioc_, poller_, i, where_, events_));
      conns_.back()->start(); // all at once: the connect storm is part of every run
    }
    sample_rss();
    phase_timer_.expires_after(std::chrono::seconds(30));
    phase_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !started_) {
        std::cerr << "nanocaf-bench: only " << ready_ << " of " << s_.conns
                  << " connections ready after 30 s\n";
        begin_measuring();
      }
    });
    ioc_.run();
  }

  json report() const {
    double secs = std::chrono::duration<double>(measure_end_ - measure_start_).count();
    json r{{"mode", s_.mode},
           {"transport", where_.websocket ? "ws" : "tcp"},
           {"conns", s_.conns},
           {"ready", ready_},
           {"connect_failures", failed_},
           {"dropped", dropped_},
           {"all_ready_ms", all_ready_us_ / 1000.0},
           {"connect_p99_ms", connect_.percentile(0.99) / 1000.0},
           {"seconds", secs}};
    if (!last_error_.empty())
      r["last_error"] = last_error_;
    if (s_.pid > 0) {
      r["server_rss_kib"] = {{"before", rss_before_}, {"ready", rss_ready_}, {"peak", rss_peak_},
                             {"end", rss_end_}};
      if (ready_ > 0)
        r["server_kib_per_conn"] = static_cast<double>(rss_ready_ - rss_before_) / static_cast<double>(ready_);
    }
    auto lat = [](const latency_histogram& h) {
      return json{{"p50_us", h.percentile(0.5)}, {"p90_us", h.percentile(0.9)},
                  {"p99_us", h.percentile(0.99)}, {"p999_us", h.percentile(0.999)},
                  {"max_us", h.max()}};
    };
    if (s_.mode == "echo") {
      // Replies that came within the window (an open loop's stragglers count in the latency only).
      r["requests_per_sec"] = secs > 0 ? static_cast<double>(answered_) / secs : 0;
      if (open_loop()) {
        r["offered_per_sec"] = secs > 0 ? static_cast<double>(sent_) / secs : 0;
        std::size_t unanswered = 0;
        for (auto& p : pending_)
          unanswered += p.size();
        r["unanswered"] = unanswered; // a second after the last was sent
      }
      r["latency"] = lat(latency_);
      r["error_replies"] = error_replies_;
      // How evenly the server served its clients (a closed loop gives each the same chance).
      auto counts = replies_;
      std::sort(counts.begin(), counts.end());
      if (!counts.empty())
        r["replies_per_connection"] = {{"min", counts.front()},
                                       {"median", counts[counts.size() / 2]},
                                       {"max", counts.back()}};
    } else if (s_.mode == "broadcast") {
      r["broadcasts"] = broadcasts_;
      r["deliveries_per_sec"] = secs > 0 ? static_cast<double>(latency_.count()) / secs : 0;
      r["readers"] = readers();
      r["expected_deliveries"] = broadcasts_ * readers();
      r["deliveries"] = latency_.count();
      r["latency"] = lat(latency_);
    }
    return r;
  }

private:
  std::size_t readers() const {
    return every_nth_silent_ == 0 ? ready_ : ready_ - (ready_ - 1) / every_nth_silent_;
  }
  bool silent(std::size_t i) const { return every_nth_silent_ != 0 && i != 0 && i % every_nth_silent_ == 0; }

  void on_ready(std::size_t) {
    ++ready_;
    connect_.record(static_cast<std::uint64_t>(micros_since(origin_)));
    check_all_started();
  }

  void check_all_started() {
    if (started_ || ready_ + failed_ < s_.conns)
      return;
    all_ready_us_ = micros_since(origin_);
    phase_timer_.cancel();
    begin_measuring();
  }

  void begin_measuring() {
    started_ = true;
    rss_ready_ = rss_kib(s_.pid);
    if (s_.mode == "connect") {
      measure_start_ = measure_end_ = clock::now();
      finish();
      return;
    }
    if (open_loop())
      start_open_loop();
    else if (s_.mode == "echo")
      for (std::size_t i = 0; i < conns_.size(); ++i)
        for (std::size_t w = 0; w < s_.window; ++w)
          request(i, s_.route, echo_body_);
    if (s_.mode == "broadcast")
      for (std::size_t i = 0; i < conns_.size(); ++i)
        request(i, s_.join_route, "{}");
    // Warmup is not measured; then the measurement window.
    phase_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(s_.warmup * 1000)));
    phase_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec)
        return;
      measuring_ = true;
      latency_ = {};
      broadcasts_ = 0;
      sent_ = 0;
      answered_ = 0;
      measure_start_ = clock::now();
      if (s_.mode == "broadcast")
        broadcast_tick();
      phase_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(s_.duration * 1000)));
      phase_timer_.async_wait([this](const boost::system::error_code& ec2) {
        if (ec2)
          return;
        if (s_.mode != "broadcast" && !open_loop())
          return finish();
        // Stop sending, then give the last ones a second to arrive before counting.
        measure_end_ = clock::now();
        sending_ = false;
        phase_timer_.expires_after(std::chrono::seconds(1));
        phase_timer_.async_wait([this](const boost::system::error_code& ec3) {
          if (!ec3)
            finish();
        });
      });
    });
  }

  // false: connection i is not (or no longer) ready, or the server is not taking what it sends.
  bool request(std::size_t i, const std::string& route, const std::string& payload,
               clock::time_point stamp = clock::now()) {
    auto& c = *conns_[i];
    if (!c.is_ready() || c.is_backlogged())
      return false;
    auto id = next_id_++;
    packet_.clear();
    nanocaf::codec::encode_data_packet(nanocaf::codec::message_type::request, id, route, payload,
                                       nullptr, packet_);
    pending_[i][id] = stamp;
    c.send(packet_);
    return true;
  }

  bool open_loop() const { return s_.mode == "echo" && s_.rate > 0; }

  void start_open_loop() {
    interval_ = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1 / s_.rate));
    next_due_ = clock::now();
    open_loop_tick();
  }

  // Sends every request due by now, each on the next ready connection and stamped with the
  // time it was due: a server that falls behind shows it in the latency instead of slowing
  // the sender down (no coordinated omission). Wakes at most every 200 us.
  void open_loop_tick() {
    if (finished_ || !sending_)
      return;
    auto now = clock::now();
    for (; next_due_ <= now; next_due_ += interval_) {
      bool sent = false;
      for (std::size_t tries = 0; tries < conns_.size() && !sent; ++tries) {
        next_conn_ = (next_conn_ + 1) % conns_.size();
        sent = request(next_conn_, s_.route, echo_body_, next_due_);
      }
      if (!sent) { // no connection is ready: what is due now is not sent
        next_due_ = now + interval_;
        break;
      }
      if (measuring_)
        ++sent_;
    }
    ticker_.expires_at(std::max(next_due_, now + std::chrono::microseconds(200)));
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec)
        open_loop_tick();
    });
  }

  void broadcast_tick() {
    if (!measuring_ || !sending_)
      return;
    std::string body = R"({"t":)" + std::to_string(micros_since(origin_)) + R"(,"pad":")" + pad_ + "\"}";
    if (request(0, s_.broadcast_route, body)) // deliveries are expected for those sent only
      ++broadcasts_;
    ticker_.expires_after(std::chrono::microseconds(static_cast<long>(1e6 / std::max(s_.rate, 0.1))));
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec)
        broadcast_tick();
    });
  }

  void on_message(std::size_t i, const nanocaf::codec::message& m) {
    using nanocaf::codec::message_type;
    if (m.type == message_type::push) {
      if (!measuring_ || m.route != s_.push_route)
        return;
      auto t = m.payload.find("\"t\":");
      std::int64_t sent = 0;
      if (t != std::string::npos)
        std::from_chars(m.payload.data() + t + 4, m.payload.data() + m.payload.size(), sent);
      latency_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, micros_since(origin_) - sent)));
      return;
    }
    if (m.type != message_type::response)
      return;
    auto& mine = pending_[i];
    auto p = mine.find(m.id);
    if (p == mine.end())
      return;
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - p->second);
    mine.erase(p);
    if (s_.mode == "broadcast") {
      if (silent(i))
        conns_[i]->stop_reading(); // joined; from now on it leaves everything in its socket
      return;
    }
    if (measuring_) {
      latency_.record(static_cast<std::uint64_t>(took.count()));
      if (sending_) {
        ++answered_;
        ++replies_[i];
      }
      if (m.payload.size() != echo_body_.size()) // an error reply, or not an echo
        ++error_replies_;
    }
    if (!finished_ && !open_loop())
      request(i, s_.route, echo_body_);
  }

  void sample_rss() {
    if (s_.pid <= 0)
      return;
    rss_peak_ = std::max(rss_peak_, rss_kib(s_.pid));
    rss_timer_.expires_after(std::chrono::seconds(1));
    rss_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !finished_)
        sample_rss();
    });
  }

  void finish() {
    finished_ = true;
    measuring_ = false;
    if (measure_end_ == clock::time_point{})
      measure_end_ = clock::now();
    rss_end_ = rss_kib(s_.pid);
    rss_peak_ = std::max({rss_peak_, rss_end_, rss_ready_});
    ticker_.cancel();
    phase_timer_.cancel();
    rss_timer_.cancel();
    for (auto& c : conns_)
      c->close();
    poller_.stop();
  }

  asio::io_context& ioc_;
  target where_;
  settings s_;
  poller poller_{ioc_};
  connection_events events_;
  std::vector<std::shared_ptr<bench_connection>> conns_;
  std::vector<std::unordered_map<std::uint64_t, clock::time_point>> pending_;
  asio::steady_timer ticker_, phase_timer_, rss_timer_;
  clock::time_point origin_, measure_start_, measure_end_;
  std::string pad_;
  std::string echo_body_;
  std::string packet_; // scratch: the request being sent
  std::size_t every_nth_silent_ = 0;
  clock::duration interval_{};    // open loop: between two requests
  clock::time_point next_due_{};  // open loop: when the next request is due
  std::size_t next_conn_ = 0;     // open loop: the connection that sent last
  std::size_t sent_ = 0;          // open loop: requests sent while measuring
  std::size_t answered_ = 0;      // echo: replies within the measurement window
  std::vector<std::size_t> replies_; // echo: the same, per connection
  std::size_t ready_ = 0, failed_ = 0, dropped_ = 0, broadcasts_ = 0, error_replies_ = 0;
  std::int64_t all_ready_us_ = 0;
  std::uint64_t next_id_ = 1;
  long rss_before_ = 0, rss_ready_ = 0, rss_peak_ = 0, rss_end_ = 0;
  bool started_ = false, measuring_ = false, finished_ = false, sending_ = true;
  latency_histogram latency_, connect_;
  std::string last_error_;
};

void print(const json& r) {
  std::cout << r["mode"].get<std::string>() << " over " << r["transport"].get<std::string>() << ": "
            << r["ready"] << "/" << r["conns"] << " connections ready in " << r["all_ready_ms"]
            << " ms (p99 " << r["connect_p99_ms"] << " ms), " << r["connect_failures"]
            << " failed, " << r["dropped"] << " dropped\n";
  if (r.contains("offered_per_sec"))
    std::cout << "  open loop: " << static_cast<long>(r["offered_per_sec"].get<double>())
              << " req/s offered, " << r["unanswered"] << " unanswered at the end\n";
  if (r.contains("requests_per_sec"))
    std::cout << "  " << static_cast<long>(r["requests_per_sec"].get<double>()) << " req/s, latency us p50 "
              << r["latency"]["p50_us"] << " p90 " << r["latency"]["p90_us"] << " p99 "
              << r["latency"]["p99_us"] << " p999 " << r["latency"]["p999_us"] << "\n";
  if (r.contains("replies_per_connection"))
    std::cout << "  replies per connection: min " << r["replies_per_connection"]["min"]
              << ", median " << r["replies_per_connection"]["median"] << ", max "
              << r["replies_per_connection"]["max"] << "\n";
  if (r.contains("deliveries_per_sec"))
    std::cout << "  " << r["broadcasts"] << " broadcasts to " << r["readers"] << " readers: "
              << r["deliveries"] << " of " << r["expected_deliveries"] << " delivered ("
              << static_cast<long>(r["deliveries_per_sec"].get<double>()) << "/s), latency us p50 "
              << r["latency"]["p50_us"] << " p99 " << r["latency"]["p99_us"] << " p999 "
              << r["latency"]["p999_us"] << "\n";
  if (r.contains("server_rss_kib"))
    std::cout << "  server RSS KiB: before " << r["server_rss_kib"]["before"] << ", ready "
              << r["server_rss_kib"]["ready"] << ", peak " << r["server_rss_kib"]["peak"]
              << ", end " << r["server_rss_kib"]["end"] << "; "
              << r.value("server_kib_per_conn", 0.0) << " KiB per connection\n";
  if (r.contains("last_error"))
    std::cout << "  last error: " << r["last_error"].get<std::string>() << "\n";
}

} // namespace

int main(int argc, char** argv) {
  nanocaf::apps::flags f{"nanocaf-bench: load client for nanocaf/nano/pomelo servers (see the top of apps/bench/client/main.cpp)"};
  f.add("url", "tcp://127.0.0.1:3250", "server: tcp://host:port or ws://host:port/path")
    .add("mode", "echo", "echo, broadcast, idle or connect")
    .add("conns", "100", "connections (all connect at once)")
    .add("duration", "10", "seconds measured")
    .add("warmup", "2", "seconds before measuring")
    .add("window", "1", "echo, closed loop: requests in flight per connection")
    .add("route", "bench.echo", "echo: the route")
    .add("size", "32", "payload bytes (echo) or padding (broadcast)")
    .add("payload", "", "echo: the request body instead of --size bytes of 'x' (JSON for routes that decode it)")
    .add("rate", "0", "echo: requests per second over all connections, open loop (0: closed loop); broadcast: broadcasts per second (0: 100)")
    .add("join-route", "bench.join", "broadcast: the route every member requests first (body {})")
    .add("broadcast-route", "bench.broadcast", "broadcast: the route connection 0 requests (body {\"t\":MICROS,\"pad\":\"x...\"})")
    .add("push-route", "onBroadcast", "broadcast: the push every reader must get (its body carries \"t\" back)")
    .add("non-readers", "0", "broadcast: fraction of members that stop reading after joining")
    .add("pid", "0", "server pid: sample its RSS")
    .add("json", "", "append the results as one JSON line to this file");
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  settings s{f.get("mode"),
             static_cast<std::size_t>(f.number("conns")),
             f.number("duration"),
             f.number("warmup"),
             f.number("rate") > 0 || f.get("mode") != "broadcast" ? f.number("rate") : 100,
             f.number("non-readers"),
             static_cast<std::size_t>(f.number("window")),
             static_cast<std::size_t>(f.number("size")),
             f.get("route"),
             static_cast<int>(f.number("pid")),
             f.get("payload"),
             f.get("join-route"),
             f.get("broadcast-route"),
             f.get("push-route")};
  if (s.mode != "echo" && s.mode != "broadcast" && s.mode != "idle" && s.mode != "connect") {
    std::cerr << "nanocaf-bench: --mode must be echo, broadcast, idle or connect\n";
    return 2;
  }
  try {
    asio::io_context ioc{1};
    driver d{ioc, parse_target(f.get("url")), s};
    d.run();
    auto r = d.report();
    print(r);
    if (!f.get("json").empty())
      std::ofstream{f.get("json"), std::ios::app} << r.dump() << "\n";
    return r["ready"] == r["conns"] ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "nanocaf-bench: " << e.what() << "\n";
    return 2;
  }
}
