#include "switchboard/core/shutdown.h"

#include <signal.h>

#include <catch2/catch.hpp>

TEST_CASE("SIGTERM ends the wait and says which signal it was", "[unit]") {
  sb::core::ShutdownSignal shutdown;
  CHECK_FALSE(shutdown.stopping());
  kill(getpid(), SIGTERM);
  shutdown.Wait();
  CHECK(shutdown.stopping());
  CHECK(shutdown.signal() == SIGTERM);
}

TEST_CASE("RequestStop ends the wait without a signal", "[unit]") {
  sb::core::ShutdownSignal shutdown;
  shutdown.RequestStop();
  shutdown.Wait();
  CHECK(shutdown.signal() == 0);
}

TEST_CASE("a shutdown signal that never fired goes away cleanly", "[unit]") {
  { sb::core::ShutdownSignal shutdown; }
  SUCCEED("destroyed without a signal");
}
