// BalancerListSync: keeps the Kamailio balancer's dispatcher list (deploy/kamailio) to the
// sb-signaling replicas alive now, so that scaling needs no hand edit. Every replica heartbeats
// its SIP URI into Redis with the call adopter's heartbeat (store/redis_call_owners.h); a pass
// reads the URIs of those that beat within `dead_after` and, when that set is not the list
// Kamailio last read, writes the list file (a new file renamed over the old, so Kamailio never
// reads half of one) and has Kamailio read it again (`kamcmd -s <ctl> dispatcher.reload`).
//
// A replica joins the list at its first heartbeat, and leaves it only once it stopped beating:
// at its exit (a stopping replica retires its heartbeat) or `dead_after` after a crash; never
// while it drains, when its dialogs' requests must still reach it. No replica alive (Redis
// empty, or every replica restarting at once) leaves the list as it is: a list of dead replicas
// routes nowhere either, and one that is only late comes back.
//
//   sb::signaling::BalancerListSync sync(owners, clock, log,
//                                        {.list_file = "/etc/kamailio/switchboard-lb.list",
//                                         .ctl_socket = "unix:/run/kamailio/ctl"});
//   for (;;) { (void)sync.SyncOnce(); sleep(1s); }   // sb-lb-sync (lb_sync_main.cpp)
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "store/redis_call_owners.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

struct ListSyncOptions {
  std::filesystem::path list_file;
  std::string ctl_socket;  // Kamailio's ctl module socket, "unix:/path"
  // As the replicas' SB_SIGNALING_NODE_DEAD_MS: a replica silent this long is gone.
  std::chrono::milliseconds dead_after{10000};
  std::string kamcmd = "kamcmd";
};

// The dispatcher list of set 1 (the balancer's replicas): "1 <uri>" per line.
std::string DispatcherList(const std::vector<std::string>& uris);

class BalancerListSync {
 public:
  // Borrowed arguments must outlive the sync. What the list file holds now is taken as what
  // Kamailio read at its start.
  BalancerListSync(RedisCallOwners& owners, const core::Clock& clock, const core::Logger& log,
                   ListSyncOptions options);

  // One pass: true when the list changed and Kamailio read it again. An error (Redis, the
  // file, kamcmd) changes nothing Kamailio uses; the next pass tries again.
  Result<bool> SyncOnce();

 private:
  Status WriteList(const std::string& text) const;
  Status Reload() const;

  RedisCallOwners& owners_;
  const core::Clock& clock_;
  const core::Logger& log_;
  const ListSyncOptions options_;
  std::string applied_;  // the list Kamailio last read
};

}  // namespace sb::signaling
