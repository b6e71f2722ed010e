// raw-echo: the ceiling of our stack for the echo benchmark. The same framing as nano
// (handshake, ack, heartbeat, data), one Asio thread, no actors, no routing, no sessions, no
// JSON: every Request is answered with a Response carrying its payload, and all replies to one
// read leave in one write. Compare nanocaf against it in the same run.
#include <array>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
namespace codec = nanocaf::codec;

namespace {

const std::string& handshake_reply() {
  static const std::string packet = [] {
    std::string out;
    codec::encode_packet(codec::packet_type::handshake,
                         R"({"code":200,"sys":{"heartbeat":30,"servertime":0}})", out);
    return out;
  }();
  return packet;
}

class connection : public std::enable_shared_from_this<connection> {
public:
  explicit connection(tcp::socket s) : socket_(std::move(s)) {
    socket_.set_option(tcp::no_delay(true));
  }
  void start() { read(); }

private:
  void read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                  boost::system::error_code ec, std::size_t n) {
      if (ec)
        return;
      self->on_bytes(n);
    });
  }

  void on_bytes(std::size_t n) {
    std::vector<codec::packet> packets;
    if (decoder_.feed(std::string_view{buf_.data(), n}, packets) != codec::error::none)
      return; // drop the connection
    out_.clear();
    codec::message msg;
    for (auto& p : packets) {
      if (p.type == codec::packet_type::handshake) {
        out_ += handshake_reply();
      } else if (p.type == codec::packet_type::data
                 && codec::decode_message(p.body, nullptr, msg) == codec::error::none
                 && msg.type == codec::message_type::request) {
        codec::encode_data_packet(codec::message_type::response, msg.id, {}, msg.payload, nullptr,
                                  out_);
      }
    }
    if (out_.empty()) {
      read();
      return;
    }
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, 4096> buf_;
  codec::stream_decoder decoder_;
  std::string out_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket s) {
    if (!ec)
      std::make_shared<connection>(std::move(s))->start();
    accept(acceptor);
  });
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::stoi(argv[1])) : 3270;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), port}};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](auto, auto) { ioc.stop(); });
  accept(acceptor);
  std::cout << "raw-echo: tcp " << port << std::endl;
  ioc.run();
  return 0;
}
