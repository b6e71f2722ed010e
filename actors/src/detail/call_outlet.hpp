#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

#include "nanocaf/call.hpp"
#include "nanocaf/wiring/outlet.hpp"
#include "nanocaf/session.hpp"

namespace nanocaf::detail {

class call_outlet final : public outlet {
public:
  call_outlet(std::optional<session> client, call_handler done);
  ~call_outlet() override;

  /// Completes the call once; later completions are ignored.
  void complete(call_reply reply);

  bool forwards_messages() const noexcept override { return true; }
  void deliver(codec::message_type type, std::uint64_t mid, std::string_view route,
               std::string payload) override;
  void error_reply(std::uint64_t mid, int code, const std::string& text,
                   const std::string& error_id) override;
  bool takes_error_replies() const noexcept override { return true; }
  void send(shared_bytes) override {}
  void send_copy(std::string_view) override {}
  void kick(shared_bytes packet) override;
  void close() override;
  /// What the handler changed reaches the client (its gate, if the client is elsewhere).
  void changed(const state_change& change) override;
  const std::string& remote_address() const override { return text_; }

private:
  std::optional<session> client_;
  call_handler done_;
  std::atomic<std::size_t> changes_made_{0}; // by the handler, to a client of another node
  std::atomic<bool> completed_{false};
  std::string text_ = "call";
};

} // namespace nanocaf::detail
