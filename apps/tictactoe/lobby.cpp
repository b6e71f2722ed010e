#include "lobby.hpp"

using json = nlohmann::json;
using nanocaf::handler_error;

namespace tictactoe {

namespace {

constexpr auto call_timeout = std::chrono::seconds(3);

std::string player_name(const json& req) {
  auto name = req.value("name", std::string{});
  if (name.empty() || name.size() > 24)
    throw handler_error(400, "name must be 1-24 characters");
  return name;
}

void require_login(const nanocaf::session& s) {
  if (s.uid() < 1)
    throw handler_error(401, "log in first (lobby.login)");
}

} // namespace

void lobby::setup() {
  handle("login", [this](nanocaf::session& s, const json& req) {
    auto name = player_name(req);
    if (s.uid() < 1)
      s.bind(next_uid_++);
    s.set("name", name); // travels with the player: rooms on other nodes read it
    lobby_.add(s);
    return json{{"uid", s.uid()}, {"name", name}, {"rooms", waiting_rooms()}};
  });
  // Players get onRoomList while they browse: from login or list until they sit in a room.
  handle("list", [this](nanocaf::session& s) {
    if (s.uid() > 0 && !lobby_.contains_session(s.id()))
      lobby_.add(s);
    return json{{"rooms", waiting_rooms()}};
  });
  handle("create", [this](nanocaf::session& s, const json& req) { create(s, req); });
  // From rooms: how many players a room has, and when it is over.
  handle_internal("update", [this](nanocaf::session&, const json& u) {
    auto id = u.at("roomId").get<std::string>();
    auto room = rooms_.find(id);
    if (room == rooms_.end())
      return json{{"known", false}};
    for (auto& uid : u.value("seated", json::array())) // playing now: no more room lists
      if (auto player = lobby_.member(uid.get<std::int64_t>()))
        lobby_.leave(*player);
    if (u.value("status", "") == "over") {
      rooms_.erase(room);
      rooms_gauge_->set(static_cast<std::int64_t>(rooms_.size()));
    } else {
      room->second.players = u.value("players", 0);
    }
    list_changed();
    return json{{"known", true}};
  });
  // A node was lost (the master evicted it): its rooms are gone.
  handle_internal("nodeLost", [this](nanocaf::session&, const json& u) {
    auto node = u.at("node").get<std::string>();
    for (auto i = rooms_.begin(); i != rooms_.end();)
      i = i->second.node == node ? rooms_.erase(i) : std::next(i);
    rooms_gauge_->set(static_cast<std::int64_t>(rooms_.size()));
    list_changed();
    return json{{"rooms", rooms_.size()}};
  });
  handle_internal("status", [this](nanocaf::session&) {
    return json{{"rooms", rooms_.size()}, {"players", lobby_.count()}};
  });
}

void lobby::init() {
  rooms_gauge_ = &metrics().gauges("tictactoe_lobby_rooms", "Rooms the lobby lists.").get();
}

void lobby::after_init() {
  on_session_closed([this](const nanocaf::session& s) { lobby_.leave(s); });
}

void lobby::create(nanocaf::session& s, const json& req) {
  require_login(s);
  auto id = "r" + std::to_string(next_room_++);
  room_entry entry{id, req.value("name", s.get<std::string>("name") + "'s room"), {}, 0};
  if (entry.name.size() > 40)
    throw handler_error(400, "room name must be at most 40 characters");
  // The room lives on the node its id routes to (route_by_key on "roomId"): ask it to open.
  auto mid = s.last_mid();
  call<json>("room.open", json{{"roomId", id}}, call_timeout,
             [this, s, mid, entry](const nanocaf::call_result<json>& r) mutable {
               if (!r.ok()) {
                 s.response_error(mid, r.code, r.error, r.error_id);
                 return;
               }
               entry.node = r.value->value("node", "");
               rooms_[entry.id] = entry;
               rooms_gauge_->set(static_cast<std::int64_t>(rooms_.size()));
               list_changed();
               s.response_to(mid, json{{"roomId", entry.id}, {"name", entry.name}});
             }); // answered when the room opened
}

json lobby::waiting_rooms() const {
  auto list = json::array();
  for (auto& [id, r] : rooms_)
    if (r.players < 2)
      list.push_back({{"roomId", id}, {"name", r.name}, {"players", r.players}});
  return list;
}

void lobby::list_changed() {
  if (std::exchange(push_pending_, true))
    return;
  after(std::chrono::milliseconds(500), [this] {
    push_pending_ = false;
    lobby_.broadcast("onRoomList", json{{"rooms", waiting_rooms()}});
  });
}

} // namespace tictactoe
