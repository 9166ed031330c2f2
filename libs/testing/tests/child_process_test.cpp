// The harness's child processes and loopback UDP sockets, with /bin/sh and the kernel as peers.
#include "switchboard/testing/child_process.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "switchboard/testing/udp_socket.h"

using namespace std::chrono_literals;
using sb::testing::ChildProcess;
using sb::testing::UdpSocket;

TEST_CASE("a child process gets our environment plus its own and logs to its directory",
          "[testing][process]") {
  auto child =
      ChildProcess::Start({"sh", "-c", "echo \"$SB_TEST_GREETING from $HOME\"; exit 3"},
                          {{"SB_TEST_GREETING", "hello"}, {"HOME", "/nowhere"}}, "greeter");
  CHECK(child.WaitExit(10s) == 3);
  CHECK(child.ReadLog() == "hello from /nowhere\n");
  CHECK(child.log().parent_path() == child.dir());
  CHECK_FALSE(child.Running());
}

TEST_CASE("a child process that ignores SIGTERM is killed with its whole group",
          "[testing][process]") {
  // The grandchild (sleep) is in the child's group: it must not outlive the owner.
  auto child =
      ChildProcess::Start({"sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"}, {}, "stubborn");
  REQUIRE(child.Running());
  const auto dir = child.dir();
  child.Stop(200ms);
  CHECK_FALSE(child.Running());
  CHECK(::kill(-child.pid(), 0) != 0);  // nobody left in the group
  { ChildProcess gone = std::move(child); }
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("an executable that does not exist is an error, not a child", "[testing][process]") {
  CHECK_THROWS_WITH(ChildProcess::Start({"sb-no-such-binary"}, {}, "missing"),
                    Catch::Contains("not found in PATH"));
}

TEST_CASE("loopback UDP sockets exchange datagrams and tell where they came from",
          "[testing][udp]") {
  UdpSocket a;
  UdpSocket b("127.0.0.1");
  REQUIRE(a.port() != 0);
  REQUIRE(a.SendTo(b.port(), std::string_view("ping")));
  auto got = b.Receive(2s);
  REQUIRE(got.has_value());
  CHECK(got->text() == "ping");
  CHECK(got->ip == "127.0.0.1");
  CHECK(got->port == a.port());
  CHECK_FALSE(b.Receive(10ms).has_value());
  CHECK_THROWS(UdpSocket("127.0.0.1", a.port()));  // taken
}
