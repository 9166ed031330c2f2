// A NatsBus connection for a test (to its private nats-server or the shared one), named so that
// nats-server's connection list says which test holds it.
//
//   auto bus = sb::testing::ConnectNats(nats.url(), "call-media-itest");
//
// Throws std::runtime_error when it cannot connect (a test cannot go on).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "switchboard/bus/nats_bus.h"

namespace sb::testing {

inline std::unique_ptr<bus::NatsBus> ConnectNats(const std::string& url, const std::string& name) {
  bus::NatsBusOptions options;
  options.url = url;
  options.name = name;
  auto connected = bus::NatsBus::Connect(options);
  if (!connected.ok()) {
    throw std::runtime_error("cannot connect to " + url + ": " + connected.status().message());
  }
  return std::move(*connected);
}

}  // namespace sb::testing
