// member_info <-> clusterpb::MemberInfo.
#pragma once

#include "nanocaf/cluster/cluster.hpp"
#include "nanocaf/proto/cluster.pb.h"

namespace nanocaf::cluster::detail {

inline member_info from_proto(const clusterpb::MemberInfo& p) {
  return {p.label(), p.serviceaddr(), {p.services().begin(), p.services().end()}};
}

inline void to_proto(const member_info& m, clusterpb::MemberInfo& p) {
  p.set_label(m.label);
  p.set_serviceaddr(m.service_address);
  p.clear_services();
  for (auto& s : m.services)
    p.add_services(s);
}

} // namespace nanocaf::cluster::detail
