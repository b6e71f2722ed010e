// The epoll set that the gateway (one Asio thread) and nanocaf-bench watch their sockets in,
// on real socket pairs: level-triggered readability, writability on request, what remove()
// lets go of and when, a socket ended by an earlier one of the same batch, a throwing
// callback, and stop().
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>

#include "detail/poller.hpp"

using nanocaf::detail::pollable;
using nanocaf::detail::poller;

namespace {

struct socket_pair {
  int ours = -1, theirs = -1;
  socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours = fds[0];
    theirs = fds[1];
  }
  ~socket_pair() {
    ::close(ours);
    ::close(theirs);
  }
  void send_to_ours(const char* text = "x") const { ASSERT_GT(::send(theirs, text, 1, 0), 0); }
};

struct recorder : pollable {
  int readable = 0, writable = 0;
  std::function<void()> on_read;
  void on_readable() override {
    ++readable;
    if (on_read)
      on_read();
  }
  void on_writable() override { ++writable; }
};

// Runs the io_context until `done` or two seconds pass.
bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done() && std::chrono::steady_clock::now() < until) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(5));
  }
  return done();
}

} // namespace

TEST(Poller, ReportsAReadableSocketUntilItIsDrained) {
  boost::asio::io_context ioc;
  poller p{ioc};
  socket_pair s;
  auto r = std::make_shared<recorder>();
  ASSERT_TRUE(p.add(s.ours, r));
  ioc.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(r->readable, 0) << "nothing was sent";
  s.send_to_ours();
  ASSERT_TRUE(run_until(ioc, [&] { return r->readable >= 3; })) << "level-triggered: unread data is reported again";
  char byte;
  ASSERT_EQ(::recv(s.ours, &byte, 1, 0), 1);
  int seen = r->readable;
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(20));
  EXPECT_LE(r->readable, seen + 1) << "drained: no more reports";
  EXPECT_EQ(r->writable, 0) << "writability only when asked for";
}

TEST(Poller, ReportsWritabilityWhenAskedAndLetsGoOnRemove) {
  boost::asio::io_context ioc;
  poller p{ioc};
  socket_pair s;
  auto r = std::make_shared<recorder>();
  ASSERT_TRUE(p.add(s.ours, r));
  EXPECT_EQ(r.use_count(), 2) << "the poller keeps what it watches alive";
  p.watch(s.ours, false, true);
  ASSERT_TRUE(run_until(ioc, [&] { return r->writable > 0; }));
  p.remove(s.ours);
  EXPECT_EQ(r.use_count(), 1) << "remove() outside a batch lets go at once";
  int writable = r->writable;
  s.send_to_ours();
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(r->writable, writable) << "nothing is reported after remove()";
  EXPECT_EQ(r->readable, 0);
}

TEST(Poller, ASocketEndedByAnEarlierOneOfTheBatchLivesUntilTheBatchEnds) {
  boost::asio::io_context ioc;
  poller p{ioc};
  socket_pair a, b;
  auto first = std::make_shared<recorder>();
  auto second = std::make_shared<recorder>();
  std::weak_ptr<recorder> second_alive = second;
  ASSERT_TRUE(p.add(a.ours, first));
  ASSERT_TRUE(p.add(b.ours, second));
  // Whichever runs first removes the other (ASan would see a call on freed memory).
  bool removed = false;
  first->on_read = [&] {
    if (!removed) {
      removed = true;
      p.remove(b.ours);
      p.remove(a.ours);
      EXPECT_FALSE(second_alive.expired()) << "released only after the batch";
    }
  };
  second->on_read = [&] {
    if (!removed) {
      removed = true;
      p.remove(a.ours);
      p.remove(b.ours);
    }
  };
  first.reset();
  second.reset();
  a.send_to_ours();
  b.send_to_ours();
  ASSERT_TRUE(run_until(ioc, [&] { return removed; }));
  EXPECT_TRUE(second_alive.expired()) << "released when the batch ended";
}

TEST(Poller, AThrowingCallbackDoesNotEndTheWatch) {
  boost::asio::io_context ioc;
  poller p{ioc};
  socket_pair s;
  auto r = std::make_shared<recorder>();
  r->on_read = [&] {
    if (r->readable == 1)
      throw std::runtime_error("from a callback");
  };
  ASSERT_TRUE(p.add(s.ours, r));
  s.send_to_ours();
  bool thrown = false;
  for (int i = 0; i < 100 && r->readable < 2; ++i) {
    try {
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(5));
    } catch (const std::runtime_error&) {
      thrown = true; // as the gateway's Asio thread catches and logs it
    }
  }
  EXPECT_TRUE(thrown);
  EXPECT_GE(r->readable, 2) << "the socket, still unread, is reported again";
  p.remove(s.ours);
}

TEST(Poller, StopLetsTheIoContextRunOutOfWork) {
  boost::asio::io_context ioc;
  poller p{ioc};
  p.stop();
  auto start = std::chrono::steady_clock::now();
  ioc.run_for(std::chrono::seconds(2));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}
