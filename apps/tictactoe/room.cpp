#include "room.hpp"

using json = nlohmann::json;
using nanocaf::handler_error;

namespace tictactoe {

namespace {

constexpr auto call_timeout = std::chrono::seconds(3);

std::string seat_text(char seat) { return std::string(1, seat); }

} // namespace

void room_service::init() {
  rooms_gauge_ = &metrics().gauges("tictactoe_rooms", "Rooms open on this node.").get();
}

void room_service::setup() {
  // From the lobby: open a room with this id here (the id routed it to this node).
  handle_internal("open", [this](nanocaf::session&, const json& req) {
    auto id = req.at("roomId").get<std::string>();
    auto [r, created] = rooms_.try_emplace(id);
    if (created) {
      r->second.id = id;
      r->second.members = std::make_unique<nanocaf::group>("room " + id);
      rooms_gauge_->add();
    }
    return json{{"roomId", id}, {"node", settings_.node}};
  });
  handle("join", [this](nanocaf::session& s, const json& req) { return join(s, req); });
  handle("move", [this](nanocaf::session& s, const json& req) { return move(s, req); });
  handle_internal("status", [this](nanocaf::session&) { return json{{"rooms", rooms_.size()}}; });
}

room_service::room& room_service::find(const json& req) {
  auto id = req.value("roomId", std::string{});
  auto r = rooms_.find(id);
  if (r == rooms_.end())
    throw handler_error(404, "no such room: " + id.substr(0, 40));
  return r->second;
}

char room_service::seat_of(const room& r, const nanocaf::session& s) const {
  for (auto& [seat, p] : r.seats)
    if (p.uid == s.uid())
      return seat;
  return 0;
}

json room_service::join(nanocaf::session& s, const json& req) {
  if (s.uid() < 1)
    throw handler_error(401, "log in first (lobby.login)");
  auto& r = find(req);
  if (auto seat = seat_of(r, s))
    return json{{"seat", seat_text(seat)}, {"state", state_of(r)}}; // joined already
  if (r.seats.size() == 2)
    throw handler_error(409, "room is full");
  char seat = r.seats.empty() ? 'X' : 'O';
  r.seats[seat] = {s.uid(), s.get<std::string>("name", "player"), s};
  r.members->add(s);
  // Leaving forfeits: runs here, on this component's actor.
  s.on_closed([this, id = r.id, uid = s.uid()](const nanocaf::session&) {
    auto i = rooms_.find(id);
    if (i == rooms_.end())
      return;
    for (auto& [seat, p] : i->second.seats)
      if (p.uid == uid) {
        i->second.game.forfeit(seat);
        finish(i->second, "left");
        return;
      }
  });
  report(r);
  if (r.seats.size() == 2)
    start_turn(r);
  r.members->broadcast("onState", state_of(r));
  return json{{"seat", seat_text(seat)}, {"state", state_of(r)}};
}

json room_service::move(nanocaf::session& s, const json& req) {
  auto& r = find(req);
  auto seat = seat_of(r, s);
  if (!seat)
    throw handler_error(403, "you are not in this room");
  if (r.seats.size() < 2)
    throw handler_error(409, "waiting for a second player");
  if (!req.contains("cell") || !req["cell"].is_number_integer())
    throw handler_error(400, "cell must be an integer 0-8");
  if (auto refused = r.game.play(seat, req["cell"].get<int>()); !refused.empty())
    throw handler_error(409, refused);
  if (r.game.over()) {
    auto result = r.game.result();
    finish(r, result == "draw" ? "draw" : "line");
    return json{{"ok", true}, {"result", result}};
  }
  start_turn(r);
  r.members->broadcast("onState", state_of(r));
  return json{{"ok", true}};
}

void room_service::start_turn(room& r) {
  if (r.turn_timer)
    cancel(*r.turn_timer);
  // A player who lets the turn time run out forfeits.
  r.turn_timer = after(settings_.turn_time, [this, id = r.id, seat = r.game.turn()] {
    auto i = rooms_.find(id);
    if (i == rooms_.end() || i->second.game.turn() != seat)
      return;
    i->second.turn_timer.reset();
    i->second.game.forfeit(seat);
    finish(i->second, "timeout");
  });
}

void room_service::finish(room& r, std::string reason) {
  if (r.turn_timer)
    cancel(*r.turn_timer);
  r.reason = std::move(reason);
  r.members->broadcast("onState", state_of(r));
  r.members->close();
  report(r);
  rooms_.erase(r.id); // `r` is gone from here on
  rooms_gauge_->sub();
}

void room_service::report(const room& r) {
  auto seated = json::array();
  for (auto& [seat, p] : r.seats)
    seated.push_back(p.uid);
  json update{{"roomId", r.id}, {"players", r.seats.size()}, {"seated", seated},
              {"status", r.game.over() ? "over" : r.seats.size() == 2 ? "playing" : "waiting"}};
  call<json>("lobby.update", update, call_timeout, [](const nanocaf::call_result<json>&) {});
}

json room_service::state_of(const room& r) const {
  json players = json::object();
  for (auto& [seat, p] : r.seats)
    players[seat_text(seat)] = p.name;
  auto status = r.game.over() ? "over" : r.seats.size() == 2 ? "playing" : "waiting";
  json st{{"roomId", r.id}, {"board", r.game.cells()}, {"players", players}, {"status", status}};
  if (r.seats.size() == 2 && !r.game.over()) {
    st["turn"] = seat_text(r.game.turn());
    st["turnSeconds"] = settings_.turn_time.count() / 1000.0;
  }
  if (r.game.over()) {
    st["result"] = r.game.result();
    st["reason"] = r.reason;
  }
  return st;
}

} // namespace tictactoe
