// nano's chat room (spec 8.1), as a nanocaf component: service "room", request "join",
// notify "message"; pushes onMembers and onNewUser, broadcasts onMessage.
#pragma once

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/proto/chat.pb.h>

namespace chat {

// A protobuf message: JSON {"name":..,"content":..} under the json serializer, binary under
// protobuf (the --serializer flag).
using user_message = nanocaf::chat::UserMessage;

class room : public nanocaf::component {
public:
  void setup() override {
    handle("Join", &room::join);
    handle("Message", &room::message);
  }

  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { members_.leave(s); });
    every(std::chrono::minutes(1), [this] {
      nanocaf::log::info("room ", members_.name(), ": ", members_.count(), " users");
    });
  }

  nlohmann::json join(nanocaf::session& s, const nanocaf::bytes&) {
    s.bind(s.id());
    s.set("ROOM_ID", members_.name());
    auto uids = members_.members();
    s.push("onMembers", nlohmann::json{{"members", uids.empty() ? nlohmann::json() : nlohmann::json(uids)}});
    members_.broadcast("onNewUser", nlohmann::json{{"content", "New user: " + std::to_string(s.id())}});
    members_.add(s);
    return {{"code", 0}, {"result", "success"}};
  }

  void message(nanocaf::session& s, const user_message& msg) {
    if (!s.has("ROOM_ID"))
      throw nanocaf::handler_error(403, "join the room first");
    members_.broadcast("onMessage", msg);
  }

private:
  nanocaf::group members_{"room-1"};
};

} // namespace chat
