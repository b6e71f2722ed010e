// A remote session's path back to its client: pushes and responses go to the client's gate
// as HandlePush / HandleResponse, close as CloseSession, through the bridge to that gate.
#pragma once

#include <caf/actor.hpp>

#include "detail/messages.hpp"
#include "nanocaf/wiring/outlet.hpp"

namespace nanocaf::cluster::detail {

class remote_outlet final : public outlet {
public:
  remote_outlet(std::string gate, std::int64_t gate_session, caf::actor gate_peer,
                std::shared_ptr<status_board> board, std::string self_address)
    : self_(std::move(self_address)),
      gate_(std::move(gate)),
      gate_session_(gate_session),
      peer_(std::move(gate_peer)),
      text_(gate_ + "#" + std::to_string(gate_session)),
      board_(std::move(board)) {}

  const std::string& gate() const noexcept { return gate_; }
  std::int64_t gate_session() const noexcept { return gate_session_; }

  bool forwards_messages() const noexcept override { return true; }
  void deliver(codec::message_type type, std::uint64_t mid, std::string_view route,
               std::string payload) override;
  void send(shared_bytes) override {} // never used: this outlet forwards messages
  /// Gate.Kick (our extension) with the reason; a Go gate gets CloseSession instead.
  void kick(shared_bytes kick_packet) override;
  void close() override;
  /// A StateChange to the gate, which holds the client's authoritative state.
  void changed(const state_change& change) override;
  const std::string& remote_address() const override { return text_; }
  /// A failed request: the gate decides what its client sees (nanocaf_cluster.proto ErrorReply).
  void error_reply(std::uint64_t mid, int code, const std::string& text,
                   const std::string& error_id) override;
  bool takes_error_replies() const noexcept override { return true; }

  /// A request for this client arrived: the node owes it an answer until one is delivered.
  void request_arrived();
  /// The client is gone: what was owed will never be answered (a graceful stop stops
  /// waiting for it).
  void forgive();

private:
  void paid_one(); // an answer went out: one less owed
  std::string self_; // this node's gRPC address: the gate tells our changes from others'
  std::string gate_;
  std::int64_t gate_session_;
  caf::actor peer_;
  std::string text_;
  std::shared_ptr<status_board> board_; // counts the requests this node still owes an answer
  std::atomic<std::int64_t> owed_{0};    // this client's share of that count
};

} // namespace nanocaf::cluster::detail
