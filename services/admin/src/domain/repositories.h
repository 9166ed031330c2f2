// The storage edge of the admin domain: one repository per aggregate, each taking the TenantId
// of the resource explicitly (a platform API key is the one row without a tenant). Every mutation
// takes the AuditEntry that describes it and writes it in the same transaction, so the audit log
// holds exactly the changes that happened.
//
// Updates are read-modify-write inside one transaction with the row locked: the repository loads
// the row, calls `change` (domain code: it edits and validates the value, and may refuse with a
// Status), then stores the result. Two concurrent updates of one row therefore serialise.
//
// Errors: NOT_FOUND when no row of that tenant has the id, ALREADY_EXISTS on a uniqueness clash
// (the message names what clashed), UNAVAILABLE when the database cannot be reached.
// Production implementations live in store/ (Postgres); all methods are thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

enum class Change { kCreated, kUpdated, kDeleted };

// One event of the transactional outbox: written in the transaction of the mutation it describes,
// published later by the relay (rpc/outbox_relay.h) with msg-id = event_id.
struct OutboxEvent {
  std::string event_id{};
  std::string subject{};
  std::string payload{};  // serialized event (events.proto)
};

// Encodes a change as its event; the repositories call it inside the mutation's transaction with
// the row as committed (for an update, after `change`; for a delete, as it was). Thread-safe.
class EventEncoder {
 public:
  virtual ~EventEncoder() = default;
  virtual Result<OutboxEvent> Tenant(Change change, const sb::admin::Tenant& tenant) const = 0;
  virtual Result<OutboxEvent> Extension(Change change, const sb::admin::Extension& ext,
                                        std::string_view sip_domain) const = 0;
  virtual Result<OutboxEvent> Number(Change change, const PhoneNumber& number) const = 0;
  virtual Result<OutboxEvent> Trunk(Change change, const sb::admin::Trunk& trunk) const = 0;
};

struct AuditEntry {
  std::optional<TenantId> tenant{};
  std::string actor_key_id{};  // empty for the service itself (bootstrap)
  std::string action{};        // "tenant.create", "extension.update", ...
  std::string resource_id{};
  std::string details_json = "{}";
};

struct TenantFilter {
  std::optional<TenantStatus> status{};
  std::string slug_prefix{};
};

class TenantRepository {
 public:
  virtual ~TenantRepository() = default;
  // Inserts the tenant and its first API key together.
  virtual Status Create(const Tenant& tenant, const ApiKey& first_key, const AuditEntry& audit) = 0;
  virtual Result<Tenant> Get(const TenantId& id) = 0;
  virtual Result<Tenant> GetByDomain(std::string_view sip_domain) = 0;
  virtual Result<Page<Tenant>> List(const TenantFilter& filter, const PageQuery& page) = 0;
  virtual Result<Tenant> Update(const TenantId& id, const std::function<Status(Tenant&)>& change,
                                const AuditEntry& audit) = 0;
  // Deletes the tenant and everything it owns; returns the tenant as it was.
  virtual Result<Tenant> Delete(const TenantId& id, const AuditEntry& audit) = 0;
};

class ApiKeyRepository {
 public:
  virtual ~ApiKeyRepository() = default;
  virtual Status Create(const ApiKey& key, const AuditEntry& audit) = 0;
  // Authentication: the hash is the credential, so this is the one lookup without a tenant.
  // NOT_FOUND for unknown and for revoked keys.
  virtual Result<ApiKey> FindActiveByHash(std::string_view secret_hash) = 0;
  // Keys of a tenant; none (platform keys) when tenant is empty.
  virtual Result<Page<ApiKey>> List(const std::optional<TenantId>& tenant, bool include_revoked,
                                    const PageQuery& page) = 0;
  virtual Result<ApiKey> Revoke(const std::optional<TenantId>& tenant, const ApiKeyId& id,
                                WallTime at, const AuditEntry& audit) = 0;
  virtual Result<bool> HasActivePlatformKey() = 0;
};

struct ExtensionFilter {
  std::string number_prefix{};
  std::optional<bool> enabled{};
};

class ExtensionRepository {
 public:
  virtual ~ExtensionRepository() = default;
  // FAILED_PRECONDITION when the tenant already has max_extensions extensions.
  virtual Status Create(const Extension& ext, const AuditEntry& audit) = 0;
  virtual Result<Extension> Get(const TenantId& tenant, const ExtensionId& id) = 0;
  virtual Result<Extension> GetByNumber(const TenantId& tenant, std::string_view number) = 0;
  virtual Result<Extension> GetByUsername(const TenantId& tenant, std::string_view user) = 0;
  virtual Result<Page<Extension>> List(const TenantId& tenant, const ExtensionFilter& filter,
                                       const PageQuery& page) = 0;
  virtual Result<Extension> Update(const TenantId& tenant, const ExtensionId& id,
                                   const std::function<Status(Extension&)>& change,
                                   const AuditEntry& audit) = 0;
  virtual Result<Extension> Delete(const TenantId& tenant, const ExtensionId& id,
                                   const AuditEntry& audit) = 0;
};

class NumberRepository {
 public:
  virtual ~NumberRepository() = default;
  virtual Status Create(const PhoneNumber& number, const AuditEntry& audit) = 0;
  virtual Result<PhoneNumber> Get(const TenantId& tenant, const NumberId& id) = 0;
  // Inbound routing: a number belongs to one tenant on the platform, found without a tenant.
  virtual Result<PhoneNumber> FindByE164(std::string_view e164) = 0;
  virtual Result<Page<PhoneNumber>> List(const TenantId& tenant, std::string_view e164_prefix,
                                         const PageQuery& page) = 0;
  virtual Result<PhoneNumber> Update(const TenantId& tenant, const NumberId& id,
                                     const std::function<Status(PhoneNumber&)>& change,
                                     const AuditEntry& audit) = 0;
  virtual Result<PhoneNumber> Delete(const TenantId& tenant, const NumberId& id,
                                     const AuditEntry& audit) = 0;
};

class TrunkRepository {
 public:
  virtual ~TrunkRepository() = default;
  // ALREADY_EXISTS also when an inbound source overlaps another trunk's on the platform.
  virtual Status Create(const Trunk& trunk, const AuditEntry& audit) = 0;
  virtual Result<Trunk> Get(const TenantId& tenant, const TrunkId& id) = 0;
  // Inbound matching: the trunk whose source range contains the address, found without a tenant.
  virtual Result<Trunk> FindBySource(std::string_view ip) = 0;
  virtual Result<Page<Trunk>> List(const TenantId& tenant, std::string_view name_prefix,
                                   const PageQuery& page) = 0;
  virtual Result<Trunk> Update(const TenantId& tenant, const TrunkId& id,
                               const std::function<Status(Trunk&)>& change,
                               const AuditEntry& audit) = 0;
  virtual Result<Trunk> Delete(const TenantId& tenant, const TrunkId& id,
                               const AuditEntry& audit) = 0;
};

}  // namespace sb::admin
