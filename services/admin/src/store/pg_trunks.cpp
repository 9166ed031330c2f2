#include <nlohmann/json.hpp>

#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

using internal::MakePage;
using internal::OptionalText;
using internal::WriteAudit;

constexpr const char* kColumns =
    "t.trunk_id::text, t.tenant_id::text, t.name, t.host, t.port, t.transport, t.username,"
    " t.password, t.prefix_rules::text, t.caller_id_policy, t.fixed_caller_id,"
    " (extract(epoch from t.created_at) * 1000000)::bigint,"
    " (extract(epoch from t.updated_at) * 1000000)::bigint,"
    " coalesce((SELECT string_agg(s.source::text, ',' ORDER BY s.source)"
    " FROM admin.trunk_sources s WHERE s.trunk_id = t.trunk_id), '')";

std::string TransportText(Transport t) {
  switch (t) {
    case Transport::kTcp:
      return "tcp";
    case Transport::kTls:
      return "tls";
    case Transport::kUdp:
      break;
  }
  return "udp";
}

Transport TransportFrom(const std::string& s) {
  if (s == "tcp") return Transport::kTcp;
  if (s == "tls") return Transport::kTls;
  return Transport::kUdp;
}

std::string PolicyText(CallerIdPolicy p) {
  switch (p) {
    case CallerIdPolicy::kFixed:
      return "fixed";
    case CallerIdPolicy::kBlock:
      return "block";
    case CallerIdPolicy::kPassthrough:
      break;
  }
  return "passthrough";
}

CallerIdPolicy PolicyFrom(const std::string& s) {
  if (s == "fixed") return CallerIdPolicy::kFixed;
  if (s == "block") return CallerIdPolicy::kBlock;
  return CallerIdPolicy::kPassthrough;
}

std::string RulesJson(const std::vector<PrefixRule>& rules) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : rules) {
    j.push_back({{"match", r.match}, {"strip", r.strip}, {"prepend", r.prepend}});
  }
  return j.dump();
}

std::vector<PrefixRule> RulesFrom(const std::string& text) {
  std::vector<PrefixRule> rules;
  // Written only by RulesJson, so a parse failure means a hand-edited row: show no rules rather
  // than crash a read.
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return rules;
  for (const auto& r : j) {
    rules.push_back(PrefixRule{r.value("match", ""), r.value("strip", 0), r.value("prepend", "")});
  }
  return rules;
}

Trunk FromRow(const pqxx::row& r) {
  Trunk t;
  t.id = TrunkId(r[0].as<std::string>());
  t.tenant_id = TenantId(r[1].as<std::string>());
  t.name = r[2].as<std::string>();
  t.host = r[3].as<std::string>();
  t.port = r[4].as<int32_t>();
  t.transport = TransportFrom(r[5].as<std::string>());
  t.username = r[6].as<std::string>();
  t.password = r[7].as<std::string>();
  t.prefix_rules = RulesFrom(r[8].as<std::string>());
  t.caller_id_policy = PolicyFrom(r[9].as<std::string>());
  t.fixed_caller_id = r[10].as<std::string>();
  t.created_at = FromMicros(r[11].as<int64_t>());
  t.updated_at = FromMicros(r[12].as<int64_t>());
  std::string sources = r[13].as<std::string>();
  size_t start = 0;
  while (start < sources.size()) {
    size_t comma = sources.find(',', start);
    if (comma == std::string::npos) comma = sources.size();
    t.inbound_sources.push_back(sources.substr(start, comma - start));
    start = comma + 1;
  }
  return t;
}

Result<Trunk> One(const pqxx::result& rows, std::string_view what) {
  if (rows.empty()) return Status::NotFound("trunk " + std::string(what) + " not found");
  return FromRow(rows[0]);
}

void InsertSources(pqxx::transaction_base& w, const Trunk& t) {
  for (const auto& source : t.inbound_sources) {
    w.exec_params(
        "INSERT INTO admin.trunk_sources (tenant_id, trunk_id, source)"
        " VALUES ($1::uuid, $2::uuid, $3::cidr)",
        t.tenant_id.str(), t.id.str(), source);
  }
}

Result<Trunk> SelectOne(pqxx::transaction_base& w, const TenantId& tenant, const TrunkId& id,
                        bool lock) {
  return One(w.exec_params(std::string("SELECT ") + kColumns +
                               " FROM admin.trunks t WHERE t.tenant_id = $1::uuid"
                               " AND t.trunk_id = $2::uuid" +
                               (lock ? " FOR UPDATE" : ""),
                           tenant.str(), id.str()),
             id.str());
}

}  // namespace

Status PgTrunkRepository::Create(const Trunk& t, const AuditEntry& audit) {
  auto sealed = Seal(t);
  if (!sealed.ok()) return sealed.status();
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) {
    auto rows = w.exec_params(
        "INSERT INTO admin.trunks (trunk_id, tenant_id, name, host, port, transport, username,"
        " password, prefix_rules, caller_id_policy, fixed_caller_id, created_at, updated_at)"
        " SELECT $1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11,"
        " to_timestamp($12::float8 / 1e6), to_timestamp($13::float8 / 1e6)"
        " WHERE EXISTS (SELECT 1 FROM admin.tenants WHERE tenant_id = $2::uuid) RETURNING 1",
        t.id.str(), t.tenant_id.str(), t.name, t.host, t.port, TransportText(t.transport),
        t.username, *sealed, RulesJson(t.prefix_rules), PolicyText(t.caller_id_policy),
        t.fixed_caller_id, ToMicros(t.created_at), ToMicros(t.updated_at));
    if (rows.empty()) return Status::NotFound("tenant " + t.tenant_id.str() + " not found");
    InsertSources(w, t);
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Trunk(Change::kCreated, t)));
    WriteAudit(w, audit, "trunk");
    return Status::Ok();
  });
}

Result<Trunk> PgTrunkRepository::Get(const TenantId& tenant, const TrunkId& id) {
  return Opened(internal::Transact<Trunk>(
      pool_, [&](pqxx::transaction_base& w) { return SelectOne(w, tenant, id, false); }));
}

Result<Trunk> PgTrunkRepository::FindBySource(std::string_view ip) {
  return Opened(internal::Transact<Trunk>(pool_, [&](pqxx::transaction_base& w) {
    return One(w.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM admin.trunks t WHERE t.trunk_id = (SELECT s.trunk_id"
                                 " FROM admin.trunk_sources s WHERE s.source >>= $1::inet"
                                 " LIMIT 1)",
                             std::string(ip)),
               std::string("for source ") + std::string(ip));
  }));
}

Result<Page<Trunk>> PgTrunkRepository::List(const TenantId& tenant, std::string_view name_prefix,
                                            const PageQuery& page) {
  return internal::Transact<Page<Trunk>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<Trunk>> {
        auto rows = w.exec_params(std::string("SELECT ") + kColumns +
                                      " FROM admin.trunks t WHERE t.tenant_id = $1::uuid AND t.name"
                                      " LIKE $2 AND ($3::uuid IS NULL OR t.trunk_id > $3::uuid)"
                                      " ORDER BY t.trunk_id LIMIT $4",
                                  tenant.str(), internal::LikePrefix(name_prefix),
                                  OptionalText(page.after), page.size + 1);
        auto listed = MakePage<Trunk>(rows, page.size, FromRow);
        for (auto& t : listed.items) {
          auto opened = Opened(std::move(t));
          if (!opened.ok()) return opened.status();
          t = std::move(*opened);
        }
        return listed;
      });
}

Result<Trunk> PgTrunkRepository::Update(const TenantId& tenant, const TrunkId& id,
                                        const std::function<Status(Trunk&)>& change,
                                        const AuditEntry& audit) {
  return internal::Transact<Trunk>(pool_, [&](pqxx::transaction_base& w) -> Result<Trunk> {
    auto current = Opened(SelectOne(w, tenant, id, true));
    if (!current.ok()) return current.status();
    Trunk t = *current;
    SB_RETURN_IF_ERROR(change(t));
    auto sealed = Seal(t);
    if (!sealed.ok()) return sealed.status();
    w.exec_params(
        "UPDATE admin.trunks SET host = $3, port = $4, transport = $5, username = $6,"
        " password = $7, prefix_rules = $8::jsonb, caller_id_policy = $9, fixed_caller_id = $10,"
        " updated_at = to_timestamp($11::float8 / 1e6)"
        " WHERE tenant_id = $1::uuid AND trunk_id = $2::uuid",
        tenant.str(), id.str(), t.host, t.port, TransportText(t.transport), t.username, *sealed,
        RulesJson(t.prefix_rules), PolicyText(t.caller_id_policy), t.fixed_caller_id,
        ToMicros(t.updated_at));
    if (t.inbound_sources != current->inbound_sources) {
      w.exec_params("DELETE FROM admin.trunk_sources WHERE trunk_id = $1::uuid", id.str());
      InsertSources(w, t);
    }
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Trunk(Change::kUpdated, t)));
    WriteAudit(w, audit, "trunk");
    return t;
  });
}

Result<Trunk> PgTrunkRepository::Delete(const TenantId& tenant, const TrunkId& id,
                                        const AuditEntry& audit) {
  return internal::Transact<Trunk>(pool_, [&](pqxx::transaction_base& w) -> Result<Trunk> {
    auto t = Opened(SelectOne(w, tenant, id, true));
    if (!t.ok()) return t.status();
    w.exec_params("DELETE FROM admin.trunks WHERE tenant_id = $1::uuid AND trunk_id = $2::uuid",
                  tenant.str(), id.str());
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Trunk(Change::kDeleted, *t)));
    WriteAudit(w, audit, "trunk");
    return t;
  });
}

Result<std::string> PgTrunkRepository::Seal(const Trunk& t) const {
  // No password stays empty, so that has_password needs no key.
  if (t.password.empty()) return std::string();
  return box_.Seal(t.password, "trunk:" + t.id.str());
}

Result<Trunk> PgTrunkRepository::Opened(Result<Trunk> t) const {
  if (!t.ok() || t->password.empty()) return t;
  auto clear = box_.Open(t->password, "trunk:" + t->id.str());
  if (!clear.ok()) {
    return Status::FailedPrecondition("trunk " + t->id.str() + ": " + clear.status().message());
  }
  t->password = std::move(*clear);
  return t;
}

Status PgTrunkRepository::SealLegacyPasswords() {
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) -> Status {
    auto rows = w.exec(
        "SELECT trunk_id::text, password FROM admin.trunks WHERE password <> ''"
        " AND password NOT LIKE 'v1:%' FOR UPDATE");
    for (const auto& row : rows) {
      Trunk t;
      t.id = TrunkId(row[0].as<std::string>());
      t.password = row[1].as<std::string>();
      auto sealed = Seal(t);
      if (!sealed.ok()) return sealed.status();
      w.exec_params("UPDATE admin.trunks SET password = $2 WHERE trunk_id = $1::uuid", t.id.str(),
                    *sealed);
    }
    return Status::Ok();
  });
}

}  // namespace sb::admin
