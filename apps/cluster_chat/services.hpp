// nano's cluster demo (spec 8.2) on nanocaf: TopicService on the master, BindService on the
// gate, RoomService on chat nodes. Same routes, same pushes, same payloads.
#pragma once

#include <map>

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>

namespace cluster_chat {

struct new_user_request {
  std::string nickname;
  std::int64_t gateUid = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(new_user_request, nickname, gateUid)

struct join_room_request {
  std::string nickname;
  std::int64_t gateUid = 0;
  std::int64_t masterUid = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(join_room_request, nickname, gateUid, masterUid)

struct stats_request {
  std::int64_t uid = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(stats_request, uid)

struct login_request {
  std::string nickname;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(login_request, nickname)

struct user_message {
  std::string name;
  std::string content;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(user_message, name, content)

/// On the master: users and their balance.
class topic_service : public nanocaf::component {
public:
  void setup() override {
    handle("NewUser", &topic_service::new_user);
    handle("Stats", &topic_service::stats);
  }
  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { users_.erase(s.uid()); });
  }

  void new_user(nanocaf::session& s, const new_user_request& req) {
    auto uid = ++next_uid_;
    s.bind(uid);
    std::string names;
    for (auto& [id, u] : users_)
      names += (names.empty() ? "" : ",") + u.nickname;
    s.push("onMembers", nlohmann::json{{"members", names}});
    users_[uid] = {req.nickname, 1000, 0};
    s.rpc("RoomService.JoinRoom", join_room_request{req.nickname, req.gateUid, uid});
  }

  void stats(nanocaf::session& s, const stats_request& req) {
    auto u = users_.find(req.uid);
    if (u == users_.end())
      throw nanocaf::handler_error(404, "user not found");
    u->second.messages++;
    u->second.balance--;
    s.push("onBalance", nlohmann::json{{"currentBalance", u->second.balance}});
  }

private:
  struct user {
    std::string nickname;
    int balance = 0;
    int messages = 0;
  };
  std::int64_t next_uid_ = 0;
  std::map<std::int64_t, user> users_;
};

/// On the gate: login.
class bind_service : public nanocaf::component {
public:
  void setup() override {
    handle("Login", &bind_service::login);
    handle("BindChatServer", &bind_service::bind_chat_server);
  }

  nlohmann::json login(nanocaf::session& s, const login_request& req) {
    s.rpc("TopicService.NewUser", new_user_request{req.nickname, ++next_gate_uid_});
    return {{"code", 0}};
  }

  nlohmann::json bind_chat_server(nanocaf::session&, const nanocaf::bytes&) {
    throw nanocaf::handler_error(501, "not implement");
  }

private:
  std::int64_t next_gate_uid_ = 0;
};

/// On chat nodes: the room.
class room_service : public nanocaf::component {
public:
  void setup() override {
    handle("JoinRoom", &room_service::join_room);
    handle("SyncMessage", &room_service::sync_message);
  }
  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { all_users_.leave(s); });
  }

  void join_room(nanocaf::session& s, const join_room_request& req) {
    s.bind(req.masterUid);
    all_users_.broadcast("onNewUser", nlohmann::json{{"content", "User user join: " + req.nickname}});
    all_users_.add(s);
  }

  void sync_message(nanocaf::session& s, const user_message& msg) {
    s.rpc("TopicService.Stats", stats_request{s.uid()});
    all_users_.broadcast("onMessage", msg);
  }

private:
  nanocaf::group all_users_{"all-users"};
};

} // namespace cluster_chat
