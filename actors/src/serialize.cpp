// Protobuf payloads; kept out of the header so user code does not compile protobuf's JSON util.
#include "nanocaf/serialize.hpp"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

namespace nanocaf::detail {

std::string encode_protobuf(serializer_kind kind, const google::protobuf::Message& msg) {
  std::string out;
  if (kind == serializer_kind::protobuf) {
    msg.SerializeToString(&out);
    return out;
  }
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true; // {"code":0} stays visible to JSON clients
  if (auto st = google::protobuf::util::MessageToJsonString(msg, &out, opts); !st.ok())
    throw payload_error(st.ToString());
  return out;
}

void decode_protobuf(serializer_kind kind, std::string_view in, google::protobuf::Message& msg) {
  if (kind == serializer_kind::protobuf) {
    if (!msg.ParseFromArray(in.data(), static_cast<int>(in.size())))
      throw payload_error("protobuf: cannot parse " + msg.GetTypeName());
    return;
  }
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(
    in.empty() ? std::string_view{"{}"} : in, &msg, opts);
  if (!st.ok())
    throw payload_error(st.ToString());
}

bool json_nested_deeper_than(std::string_view json, std::size_t limit) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i; // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limit)
          return true;
        break;
      case ']':
      case '}':
        if (depth > 0)
          --depth;
        break;
      default: break;
    }
  }
  return false;
}

void check_json_depth(std::string_view json, std::size_t limit) {
  if (json_nested_deeper_than(json, limit))
    throw payload_error("JSON nested deeper than " + std::to_string(limit) + " levels");
}

} // namespace nanocaf::detail
