// Rooms: two players, one board, a turn timer. A room lives on one node: every gate routes
// its messages there by its id (route_by_key on "roomId"), whichever gate each player uses.
// Players read their uid and name from their client state, which the lobby set on another
// node.
#pragma once

#include <map>
#include <memory>

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/metrics.hpp>

#include "board.hpp"

namespace tictactoe {

struct room_settings {
  std::chrono::milliseconds turn_time = std::chrono::seconds(15);
  std::string node; // this node's cluster address, or "local"
};

class room_service : public nanocaf::component {
public:
  explicit room_service(room_settings settings) : settings_(std::move(settings)) {}
  void setup() override;
  void init() override;

private:
  struct player {
    std::int64_t uid = 0;
    std::string name;
    nanocaf::session session;
  };
  struct room {
    std::string id;
    board game;
    std::map<char, player> seats; // 'X', 'O'
    std::unique_ptr<nanocaf::group> members;
    std::optional<nanocaf::timer_id> turn_timer;
    std::string reason; // why it ended: "line", "draw", "timeout", "left"
  };

  nlohmann::json join(nanocaf::session& s, const nlohmann::json& req);
  nlohmann::json move(nanocaf::session& s, const nlohmann::json& req);
  room& find(const nlohmann::json& req);
  char seat_of(const room& r, const nanocaf::session& s) const;
  nlohmann::json state_of(const room& r) const;
  void start_turn(room& r);
  void finish(room& r, std::string reason);
  void report(const room& r);

  room_settings settings_;
  std::map<std::string, room> rooms_;
  nanocaf::metrics::gauge* rooms_gauge_ = nullptr;
};

} // namespace tictactoe
