// The lobby: players log in (a uid and a name that follow them to every node), list the rooms
// waiting for a second player, and create rooms. It lives on one node (the master in a
// cluster); rooms report to it through server-only handlers.
#pragma once

#include <map>

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/metrics.hpp>

namespace tictactoe {

class lobby : public nanocaf::component {
public:
  void setup() override;
  void init() override;
  void after_init() override;

private:
  struct room_entry {
    std::string id, name, node;
    int players = 0;
  };
  nlohmann::json waiting_rooms() const;
  void list_changed(); // onRoomList to the lobby, at most twice a second
  void create(nanocaf::session& s, const nlohmann::json& req);

  std::map<std::string, room_entry> rooms_;
  nanocaf::group lobby_{"lobby"};
  std::int64_t next_uid_ = 1;
  std::int64_t next_room_ = 1;
  bool push_pending_ = false;
  nanocaf::metrics::gauge* rooms_gauge_ = nullptr;
};

} // namespace tictactoe
