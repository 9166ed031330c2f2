// The admin domain: tenants and what they provision (API keys, extensions, numbers, trunks), as
// plain C++ values with no wire or database types. Every resource but a platform API key carries
// its TenantId; repositories and use cases take it explicitly so that a query without a tenant is
// visible in the code.
//
//   sb::admin::Extension ext;
//   ext.tenant_id = principal_tenant;
//   ext.number = "1001";
//   SB_RETURN_IF_ERROR(sb::admin::ValidateExtensionNumber(ext.number, "number"));
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/core/ids.h"

namespace sb::admin {

using ApiKeyId = Id<struct ApiKeyIdTag>;
using ExtensionId = Id<struct ExtensionIdTag>;
using NumberId = Id<struct NumberIdTag>;
using TrunkId = Id<struct TrunkIdTag>;
using WallTime = std::chrono::system_clock::time_point;

enum class TenantStatus { kActive = 1, kSuspended = 2 };

struct Tenant {
  TenantId id{};
  std::string slug{};
  std::string name{};
  std::string sip_domain{};
  TenantStatus status = TenantStatus::kActive;
  std::string suspend_reason{};
  int32_t max_extensions = 0;
  int32_t max_concurrent_calls = 0;
  WallTime created_at{};
  WallTime updated_at{};
};

struct ApiKey {
  ApiKeyId id{};
  std::optional<TenantId> tenant_id{};  // none: a platform key
  std::string name{};
  std::string prefix{};       // first characters of the secret, for people
  std::string secret_hash{};  // hex SHA-256 of the secret
  bool revoked = false;
  WallTime created_at{};
  std::optional<WallTime> revoked_at{};
};

struct Extension {
  ExtensionId id{};
  TenantId tenant_id{};
  std::string number{};
  std::string display_name{};
  std::string sip_username{};
  std::string ha1_md5{};     // hex MD5(user:realm:password), realm = the tenant's SIP domain
  std::string ha1_sha256{};  // hex SHA-256(user:realm:password)
  std::string caller_id{};
  bool enabled = true;
  WallTime created_at{};
  WallTime updated_at{};
};

struct PhoneNumber {
  NumberId id{};
  TenantId tenant_id{};
  std::string e164{};
  std::string target{};  // "ext:<number>" or empty
  WallTime created_at{};
  WallTime updated_at{};
};

enum class Transport { kUdp = 1, kTcp = 2, kTls = 3 };
enum class CallerIdPolicy { kPassthrough = 1, kFixed = 2, kBlock = 3 };

struct PrefixRule {
  std::string match{};
  int32_t strip = 0;
  std::string prepend{};
  friend bool operator==(const PrefixRule&, const PrefixRule&) = default;
};

struct Trunk {
  TrunkId id{};
  TenantId tenant_id{};
  std::string name{};
  std::string host{};
  int32_t port = 5060;
  Transport transport = Transport::kUdp;
  std::string username{};
  std::string password{};  // outbound credentials must be sent in clear to the carrier's challenge
  std::vector<std::string> inbound_sources{};  // canonical CIDRs
  std::vector<PrefixRule> prefix_rules{};
  CallerIdPolicy caller_id_policy = CallerIdPolicy::kPassthrough;
  std::string fixed_caller_id{};
  WallTime created_at{};
  WallTime updated_at{};
};

// One page of a list: at most `size` items after the item with id `after` (ids are UUIDv7, so
// id order is creation order and a cursor stays stable under concurrent inserts).
struct PageQuery {
  int32_t size = 0;
  std::string after{};
};

template <typename T>
struct Page {
  std::vector<T> items{};
  std::string next_after{};  // empty on the last page
};

}  // namespace sb::admin
