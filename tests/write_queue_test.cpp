// The connection's write queue alone, on a scripted transport: the immediate write from the
// sender's thread, the queue and its coalesced writes, a write cut short, held packets
// (send_or_hold / write_held), the kick that closes after the queue, and the bound.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "detail/connection.hpp"
#include "detail/gateway_metrics.hpp"
#include "nanocaf/metrics.hpp"

using namespace nanocaf;
using namespace nanocaf::detail;

namespace {

// A transport whose writes the test decides: write_now takes `take_now` bytes (-1: cannot),
// and write_batch completes on the strand when the test polls the io_context.
class scripted_connection final : public connection {
public:
  scripted_connection(boost::asio::io_context& ioc, settings s, transport_metrics& stats)
    : connection(ioc.get_executor(), "scripted", s, nullptr, nullptr, stats) {}

  std::ptrdiff_t take_now = -1;
  std::vector<std::string> immediate; // what write_now wrote
  std::vector<std::vector<std::string>> batches; // what each write_batch got
  int shutdowns = 0;
  bool graceful = false;

protected:
  void start_reading() override {}
  void write_batch(const std::vector<shared_bytes>& batch) override {
    std::vector<std::string> copy;
    for (auto& p : batch)
      copy.push_back(*p);
    batches.push_back(std::move(copy));
    boost::asio::post(ex_, [self = std::static_pointer_cast<scripted_connection>(shared_from_this())] {
      self->on_written({});
    });
  }
  void shutdown_transport(bool g) override {
    ++shutdowns;
    graceful = g;
  }
  std::ptrdiff_t write_now(std::string_view bytes) override {
    if (take_now < 0)
      return -1;
    auto n = std::min<std::ptrdiff_t>(take_now, static_cast<std::ptrdiff_t>(bytes.size()));
    immediate.emplace_back(bytes.substr(0, static_cast<std::size_t>(n)));
    return n;
  }
};

struct WriteQueue : ::testing::Test {
  boost::asio::io_context ioc{1};
  metrics::registry registry;
  transport_metrics stats{registry, "tcp"};

  std::shared_ptr<scripted_connection> make(std::size_t limit = 1u << 20) {
    connection::settings s;
    s.write_queue = limit;
    return std::make_shared<scripted_connection>(ioc, s, stats);
  }
  static shared_bytes bytes(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
  void run() {
    ioc.restart();
    ioc.poll();
  }
};

} // namespace

TEST_F(WriteQueue, AnIdleConnectionWritesAtOnceFromTheSendersThread) {
  auto c = make();
  c->take_now = 1000;
  c->send(bytes("hello"));
  EXPECT_EQ(c->immediate, (std::vector<std::string>{"hello"}));
  run();
  EXPECT_TRUE(c->batches.empty()); // nothing was queued for the strand
}

TEST_F(WriteQueue, WhatCannotGoAtOnceIsQueuedAndCoalesced) {
  auto c = make();
  c->send(bytes("one")); // write_now cannot: queued, a flush posted
  run();
  ASSERT_EQ(c->batches.size(), 1u);
  EXPECT_EQ(c->batches[0], (std::vector<std::string>{"one"}));
  // While a write is in flight, what comes waits and goes out in the next batch, together.
  c->send(bytes("two"));
  c->send(bytes("three"));
  run();
  ASSERT_EQ(c->batches.size(), 2u);
  EXPECT_EQ(c->batches[1], (std::vector<std::string>{"two", "three"}));
}

TEST_F(WriteQueue, AWriteCutShortQueuesTheRest) {
  auto c = make();
  c->take_now = 3;
  c->send(bytes("abcdefghij"));
  EXPECT_EQ(c->immediate, (std::vector<std::string>{"abc"}));
  run();
  ASSERT_EQ(c->batches.size(), 1u);
  EXPECT_EQ(c->batches[0], (std::vector<std::string>{"defghij"}));
}

TEST_F(WriteQueue, HeldPacketsGoOutInOneWriteWhenTheDeferralEnds) {
  auto c = make();
  c->take_now = 1000;
  EXPECT_TRUE(c->send_or_hold(bytes("a")));
  c->send_or_hold(bytes("b"));
  c->send(bytes("c")); // joins the held ones, in order
  EXPECT_TRUE(c->immediate.empty());
  c->write_held();
  EXPECT_EQ(c->immediate, (std::vector<std::string>{"abc"}));
  run();
  EXPECT_TRUE(c->batches.empty());
}

TEST_F(WriteQueue, AKickGoesAfterTheQueueThenTheConnectionCloses) {
  auto c = make();
  c->send(bytes("queued"));
  c->kick(bytes("kick"));
  c->send(bytes("too late")); // after the kick: dropped
  run();
  std::vector<std::string> written;
  for (auto& b : c->batches)
    written.insert(written.end(), b.begin(), b.end());
  EXPECT_EQ(written, (std::vector<std::string>{"queued", "kick"}));
  EXPECT_EQ(c->shutdowns, 1);
  EXPECT_TRUE(c->graceful); // the linger after a kick
}

TEST_F(WriteQueue, APeerThatDoesNotReadIsClosedAtTheBound) {
  auto c = make(16);
  c->send(bytes("0123456789"));
  c->send(bytes("0123456789")); // 20 bytes waiting: over the bound
  run();
  EXPECT_EQ(c->shutdowns, 1);
  EXPECT_FALSE(c->graceful);
  auto page = registry.render();
  auto at = page.find("\nnanocaf_write_queue_closes_total{");
  ASSERT_NE(at, std::string::npos) << page;
  auto line = page.substr(at + 1, page.find('\n', at + 1) - at - 1);
  EXPECT_EQ(line.substr(line.rfind(' ') + 1), "1") << line;
}
