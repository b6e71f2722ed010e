// nanocaf-cli: a command-line client for nanocaf, nano and pomelo servers.
//
//   nanocaf-cli --url ws://127.0.0.1:3250/nano          interactive: type commands
//   printf 'request room.join {}\nwait 1\n' | nanocaf-cli --url tcp://127.0.0.1:3250
//
// Commands, one per line: request ROUTE [JSON] (waits for the response), notify ROUTE [JSON],
// wait SECONDS (pushes keep printing), quit. Output, one line each on stdout:
//   response ROUTE BODY    push ROUTE BODY    kicked REASON
// Exit codes: 0 all went well; 1 connection or handshake failed, or the server closed the
// connection; 2 usage or a bad command; 3 a request timed out or got an error reply
// ({"code":N} with N other than 0 or 200); 4 kicked by the server.
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/asio/post.hpp>

#include "../common/flags.hpp"
#include "session.hpp"

int main(int argc, char** argv) {
  nanocaf::apps::flags f{
    "nanocaf-cli: send requests and notifies to a nanocaf/nano/pomelo server, print pushes\n"
    "commands (stdin or --exec, one per line): request ROUTE [JSON] | notify ROUTE [JSON] |\n"
    "  expect-error CODE ROUTE [JSON] (a request that must fail with CODE) |\n"
    "  expect-push ROUTE [SECONDS] (waits for a push on ROUTE, one already printed counts) |\n"
    "  wait SECONDS | quit\n"
    "exit codes: 0 ok, 1 connection failed or closed, 2 usage, 3 a request failed unexpectedly\n"
    "  (an error reply, or success where expect-error wanted one, or no response), 4 kicked,\n"
    "  5 an expected push did not come"};
  f.add("url", "ws://127.0.0.1:3250/nano",
        "server: tcp://host:port, ws://host:port/path, or over TLS tls://... and wss://...")
    .add("ca", "", "TLS: PEM file of CAs to trust (empty: the system's)")
    .add("insecure", "false", "TLS: do not check the server's certificate")
    .add("exec", "", "run these commands (separated by newlines) instead of reading stdin")
    .add("timeout", "5", "seconds to wait to connect and for each response")
    .add("linger", "0", "seconds to keep printing pushes after the last command")
    .add("user", "", "JSON sent as the handshake's \"user\" field (tokens, versions)")
    .add("quiet", "false", "no connection messages on stderr");
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;

  nanocaf::cli::session_options opts;
  opts.url = f.get("url");
  opts.timeout = std::chrono::milliseconds(static_cast<long>(f.number("timeout") * 1000));
  opts.linger = std::chrono::milliseconds(static_cast<long>(f.number("linger") * 1000));
  opts.user = f.get("user");
  opts.quiet = f.boolean("quiet");
  opts.tls.ca = f.get("ca");
  opts.tls.insecure = f.boolean("insecure");

  boost::asio::io_context ioc;
  std::shared_ptr<nanocaf::cli::session> s;
  try {
    s = nanocaf::cli::session::connect(ioc, opts);
  } catch (const std::exception& e) {
    std::cerr << "nanocaf-cli: " << e.what() << "\n";
    return 1;
  }
  // Commands come from stdin (or --exec) on this thread and are run in order on the io thread.
  std::thread reader([&] {
    std::istringstream exec{f.get("exec")};
    std::istream& in = f.get("exec").empty() ? std::cin : static_cast<std::istream&>(exec);
    for (std::string line; std::getline(in, line);)
      boost::asio::post(ioc, [s, line] { s->command(line); });
    boost::asio::post(ioc, [s] { s->end_of_commands(); });
  });
  reader.detach(); // stdin may never end once the session has quit
  ioc.run();
  // The reader thread may still sit in getline: end the process without waiting for it.
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(s->exit_code());
}
