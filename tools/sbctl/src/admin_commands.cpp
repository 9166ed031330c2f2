// sbctl tenant|key|ext|number|trunk|audit ...: the admin API (switchboard.admin.v1) for people and
// scripts. Tables by default, --json for machines (one JSON object per command, the API's own
// messages in proto3 JSON form).
//
//   export SB_ADMIN_ADDR=127.0.0.1:7100 SB_API_KEY=sbk_...       # or --addr / --key
//   sbctl tenant create acme                # prints the tenant and its first API key (once)
//   SB_API_KEY=<acme's key> sbctl ext create 1001 --password 's3cret-pass'
//   sbctl number add +15551230001 --to ext:1001
//   sbctl ext list --json
//   sbctl audit list --type extension --since 2026-01-01T00:00:00Z
//
// Exit code 0 on success, 1 when the API refused (the error names the field at fault), 2 when the
// admin service cannot be reached.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <charconv>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "commands.h"
#include "switchboard/admin/v1/api_key.grpc.pb.h"
#include "switchboard/admin/v1/audit.grpc.pb.h"
#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/number.grpc.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/admin/v1/trunk.grpc.pb.h"

namespace sb::sbctl {
namespace {

namespace pb = ::switchboard::admin::v1;
using Row = std::vector<std::string>;

struct AdminOptions {
  std::string addr;
  std::string key;
  bool json = false;
  std::string tenant;  // --tenant: for platform keys acting on a tenant
};

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void AddCommonOptions(CLI::App* app, AdminOptions& o) {
  app->add_option("--addr", o.addr, "admin gRPC address (env SB_ADMIN_ADDR)");
  app->add_option("--key", o.key, "API key (env SB_API_KEY)");
  app->add_option("--tenant", o.tenant, "tenant id (platform keys)");
  app->add_flag("--json", o.json, "JSON output");
}

void PrintTable(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const Row& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      out << std::left << std::setw(static_cast<int>(width[i]) + (i + 1 < r.size() ? 2 : 0))
          << r[i];
    }
    out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

const char* StatusName(pb::TenantStatus s) {
  return s == pb::TENANT_STATUS_SUSPENDED ? "suspended" : "active";
}

// Runs one RPC with the key and reports a failure; true on success.
class Admin {
 public:
  Admin(const AdminOptions& o, CommandContext& c) : o_(o), c_(c) {
    const std::string addr = o.addr.empty() ? Env("SB_ADMIN_ADDR", "127.0.0.1:7100") : o.addr;
    key_ = o.key.empty() ? Env("SB_API_KEY", "") : o.key;
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  }

  template <typename Stub, typename Req, typename Resp>
  bool Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req,
            Resp* resp) {
    Stub stub(channel_);
    grpc::ClientContext ctx;
    if (!key_.empty()) ctx.AddMetadata("authorization", "Bearer " + key_);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = (stub.*method)(&ctx, req, resp);
    if (s.ok()) return true;
    std::string field;
    const auto& md = ctx.GetServerTrailingMetadata();
    if (auto it = md.find("sb-field"); it != md.end())
      field.assign(it->second.data(), it->second.size());
    const bool unreachable = s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (o_.json) {
      c_.out << "{\"error\":{\"code\":" << static_cast<int>(s.error_code()) << ",\"message\":\""
             << s.error_message() << "\",\"field\":\"" << field << "\"}}\n";
    }
    c_.err << "sbctl: " << s.error_message() << (field.empty() ? "" : " (field " + field + ")")
           << "\n";
    c_.exit_code = unreachable ? 2 : 1;
    return false;
  }

  const AdminOptions& options() const { return o_; }
  CommandContext& context() { return c_; }

 private:
  const AdminOptions& o_;
  CommandContext& c_;
  std::string key_;
  std::shared_ptr<grpc::Channel> channel_;
};

Row TenantRow(const pb::Tenant& t) {
  return {t.id(), t.slug(), t.name(), t.sip_domain(), StatusName(t.status())};
}
const Row kTenantHeader = {"ID", "SLUG", "NAME", "SIP DOMAIN", "STATUS"};
Row ExtRow(const pb::Extension& e) {
  return {e.id(), e.number(), e.sip_username(), e.display_name(), e.enabled() ? "yes" : "no"};
}
const Row kExtHeader = {"ID", "NUMBER", "SIP USER", "NAME", "ENABLED"};
Row NumberRow(const pb::PhoneNumber& n) { return {n.id(), n.e164(), n.target()}; }
const Row kNumberHeader = {"ID", "NUMBER", "TARGET"};
Row TrunkRow(const pb::Trunk& t) {
  std::string sources;
  for (const auto& s : t.inbound_sources()) sources += (sources.empty() ? "" : ",") + s;
  // Port 0: the gateway is found by its DNS SRV records.
  std::string host = t.port() == 0 ? t.host() : t.host() + ":" + std::to_string(t.port());
  return {t.id(), t.name(), host, sources};
}
const Row kTrunkHeader = {"ID", "NAME", "HOST", "INBOUND SOURCES"};
Row KeyRow(const pb::ApiKey& k) {
  return {k.id(), k.name(), k.prefix(), k.revoked() ? "yes" : "no"};
}
const Row kKeyHeader = {"ID", "NAME", "PREFIX", "REVOKED"};
Row AuditRow(const pb::AuditEntry& e) {
  return {e.id(),
          google::protobuf::util::TimeUtil::ToString(e.at()),
          e.tenant_id().empty() ? "(platform)" : e.tenant_id(),
          e.action(),
          e.resource_id(),
          e.actor_key_id()};
}
const Row kAuditHeader = {"ID", "AT", "TENANT", "ACTION", "RESOURCE", "ACTOR KEY"};

template <typename Msg>
void Show(Admin& a, const Msg& m, const Row& header, const Row& row) {
  if (a.options().json) {
    a.context().out << Json(m) << "\n";
  } else {
    PrintTable(a.context().out, header, {row});
  }
}

template <typename Resp, typename Items, typename RowFn>
void ShowList(Admin& a, const Resp& resp, const Items& items, const Row& header, RowFn row) {
  if (a.options().json) {
    a.context().out << Json(resp) << "\n";
    return;
  }
  std::vector<Row> rows;
  for (const auto& item : items) rows.push_back(row(item));
  PrintTable(a.context().out, header, rows);
}

struct State {
  AdminOptions o;
  std::string arg;
  std::string name, password, user, target, host, reason, transport = "udp";
  int port = 0;
  std::vector<std::string> sources, prefixes;
  std::string resource_type, resource_id, actor, since, until, page_token;
  int page_size = 0;
};

// "00:2:+" (match, digits stripped, prepended) from --prefix into `rule`; false (and a message)
// when it is not that shape. What the rule may hold is admin's to check (INVALID_ARGUMENT).
bool ParsePrefixRule(const std::string& text, pb::PrefixRule* rule, CommandContext& c) {
  const size_t first = text.find(':');
  const size_t second = first == std::string::npos ? first : text.find(':', first + 1);
  int strip = -1;
  if (second != std::string::npos) {
    const std::string digits = text.substr(first + 1, second - first - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), strip);
    if (ec != std::errc() || end != digits.data() + digits.size()) strip = -1;
  }
  if (strip < 0) {
    c.err << "sbctl: --prefix " << text << " is not MATCH:STRIP:PREPEND (e.g. 00:2:+)\n";
    c.exit_code = 1;
    return false;
  }
  rule->set_match(text.substr(0, first));
  rule->set_strip(strip);
  rule->set_prepend(text.substr(second + 1));
  return true;
}

pb::Transport TransportOf(const std::string& name) {
  return name == "tls" ? pb::TRANSPORT_TLS : name == "tcp" ? pb::TRANSPORT_TCP : pb::TRANSPORT_UDP;
}

// An RFC 3339 time from a flag into `out`; false (and a message) when it is not one.
bool ParseTime(const std::string& text, const char* flag, google::protobuf::Timestamp* out,
               CommandContext& c) {
  if (google::protobuf::util::TimeUtil::FromString(text, out)) return true;
  c.err << "sbctl: " << flag << " is not an RFC 3339 time (e.g. 2026-01-31T09:00:00Z)\n";
  c.exit_code = 1;
  return false;
}

CLI::App* Sub(CLI::App* group, const char* name, const char* help, State& s, CommandContext& c,
              std::function<void(Admin&)> run) {
  CLI::App* cmd = group->add_subcommand(name, help);
  AddCommonOptions(cmd, s.o);
  cmd->callback([&s, &c, run] {
    Admin a(s.o, c);
    run(a);
  });
  return cmd;
}

// `<group> delete <id>`: one Delete<Resource> call, "deleted" (or {} with --json) on success.
template <typename Request, typename Response, typename Method>
void SubDelete(CLI::App* group, const char* help, State& s, CommandContext& c, Method method) {
  Sub(group, "delete", help, s, c,
      [&s, &c, method](Admin& a) {
        Request req;
        // Tenants themselves are deleted by the platform: their request has no tenant.
        if constexpr (requires { req.set_tenant_id(s.o.tenant); }) req.set_tenant_id(s.o.tenant);
        req.set_id(s.arg);
        Response resp;
        if (a.Call(method, req, &resp)) c.out << (s.o.json ? "{}" : "deleted") << "\n";
      })
      ->add_option("id", s.arg)
      ->required();
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, CommandContext& c) {
  static State s;  // CLI11 binds options to storage that must outlive parsing

  // --- tenant ---
  CLI::App* tenant = app.add_subcommand("tenant", "tenants (platform key)");
  tenant->require_subcommand(1);
  Sub(tenant, "create", "onboard a tenant: prints it and its first API key", s, c,
      [&](Admin& a) {
        pb::CreateTenantRequest req;
        req.set_slug(s.arg);
        req.set_name(s.name);
        pb::CreateTenantResponse resp;
        if (!a.Call(&pb::TenantService::Stub::CreateTenant, req, &resp)) return;
        if (s.o.json) {
          c.out << Json(resp) << "\n";
          return;
        }
        PrintTable(c.out, kTenantHeader, {TenantRow(resp.tenant())});
        c.out << "\nAPI key (shown once): " << resp.first_api_key().secret() << "\n";
      })
      ->add_option("slug", s.arg, "tenant slug")
      ->required();
  tenant->get_subcommand("create")->add_option("--name", s.name, "name for people");
  Sub(tenant, "list", "list tenants", s, c, [&](Admin& a) {
    pb::ListTenantsRequest req;
    pb::ListTenantsResponse resp;
    if (a.Call(&pb::TenantService::Stub::ListTenants, req, &resp)) {
      ShowList(a, resp, resp.tenants(), kTenantHeader, TenantRow);
    }
  });
  Sub(tenant, "get", "show a tenant", s, c, [&](Admin& a) {
    pb::GetTenantRequest req;
    req.set_id(s.arg);
    pb::Tenant t;
    if (a.Call(&pb::TenantService::Stub::GetTenant, req, &t))
      Show(a, t, kTenantHeader, TenantRow(t));
  })->add_option("id", s.arg, "tenant id (empty: the key's own)");
  Sub(tenant, "suspend", "refuse all calls and registrations of a tenant", s, c,
      [&](Admin& a) {
        pb::SuspendTenantRequest req;
        req.set_id(s.arg);
        req.set_reason(s.reason);
        pb::Tenant t;
        if (a.Call(&pb::TenantService::Stub::SuspendTenant, req, &t))
          Show(a, t, kTenantHeader, TenantRow(t));
      })
      ->add_option("id", s.arg)
      ->required();
  tenant->get_subcommand("suspend")->add_option("--reason", s.reason);
  Sub(tenant, "resume", "resume a suspended tenant", s, c,
      [&](Admin& a) {
        pb::ResumeTenantRequest req;
        req.set_id(s.arg);
        pb::Tenant t;
        if (a.Call(&pb::TenantService::Stub::ResumeTenant, req, &t))
          Show(a, t, kTenantHeader, TenantRow(t));
      })
      ->add_option("id", s.arg)
      ->required();
  SubDelete<pb::DeleteTenantRequest, pb::DeleteTenantResponse>(
      tenant, "delete a tenant and everything it owns", s, c,
      &pb::TenantService::Stub::DeleteTenant);

  // --- key ---
  CLI::App* key = app.add_subcommand("key", "API keys");
  key->require_subcommand(1);
  Sub(key, "create", "create an API key: prints its secret once", s, c,
      [&](Admin& a) {
        pb::CreateApiKeyRequest req;
        req.set_tenant_id(s.o.tenant);
        req.set_name(s.arg);
        pb::CreateApiKeyResponse resp;
        if (!a.Call(&pb::ApiKeyService::Stub::CreateApiKey, req, &resp)) return;
        if (s.o.json) {
          c.out << Json(resp) << "\n";
          return;
        }
        PrintTable(c.out, kKeyHeader, {KeyRow(resp.key())});
        c.out << "\nAPI key (shown once): " << resp.secret().secret() << "\n";
      })
      ->add_option("name", s.arg)
      ->required();
  Sub(key, "list", "list API keys", s, c, [&](Admin& a) {
    pb::ListApiKeysRequest req;
    req.set_tenant_id(s.o.tenant);
    pb::ListApiKeysResponse resp;
    if (a.Call(&pb::ApiKeyService::Stub::ListApiKeys, req, &resp)) {
      ShowList(a, resp, resp.keys(), kKeyHeader, KeyRow);
    }
  });
  Sub(key, "revoke", "revoke an API key", s, c,
      [&](Admin& a) {
        pb::RevokeApiKeyRequest req;
        req.set_tenant_id(s.o.tenant);
        req.set_id(s.arg);
        pb::ApiKey k;
        if (a.Call(&pb::ApiKeyService::Stub::RevokeApiKey, req, &k))
          Show(a, k, kKeyHeader, KeyRow(k));
      })
      ->add_option("id", s.arg)
      ->required();

  // --- ext ---
  CLI::App* ext = app.add_subcommand("ext", "extensions (SIP users)");
  ext->require_subcommand(1);
  CLI::App* ext_create = Sub(ext, "create", "create an extension", s, c, [&](Admin& a) {
    pb::CreateExtensionRequest req;
    req.set_tenant_id(s.o.tenant);
    req.set_number(s.arg);
    req.set_password(s.password);
    req.set_display_name(s.name);
    req.set_sip_username(s.user);
    pb::Extension e;
    if (a.Call(&pb::ExtensionService::Stub::CreateExtension, req, &e))
      Show(a, e, kExtHeader, ExtRow(e));
  });
  ext_create->add_option("number", s.arg, "extension number")->required();
  ext_create->add_option("--password", s.password, "SIP password (stored only as HA1)")->required();
  ext_create->add_option("--name", s.name, "display name");
  ext_create->add_option("--user", s.user, "SIP username (default: the number)");
  Sub(ext, "list", "list extensions", s, c, [&](Admin& a) {
    pb::ListExtensionsRequest req;
    req.set_tenant_id(s.o.tenant);
    pb::ListExtensionsResponse resp;
    if (a.Call(&pb::ExtensionService::Stub::ListExtensions, req, &resp)) {
      ShowList(a, resp, resp.extensions(), kExtHeader, ExtRow);
    }
  });
  SubDelete<pb::DeleteExtensionRequest, pb::DeleteExtensionResponse>(
      ext, "delete an extension", s, c, &pb::ExtensionService::Stub::DeleteExtension);

  // --- number ---
  CLI::App* number = app.add_subcommand("number", "phone numbers (DIDs)");
  number->require_subcommand(1);
  CLI::App* number_add = Sub(number, "add", "assign a number to the tenant", s, c, [&](Admin& a) {
    pb::AddNumberRequest req;
    req.set_tenant_id(s.o.tenant);
    req.set_e164(s.arg);
    req.set_target(s.target);
    pb::PhoneNumber n;
    if (a.Call(&pb::NumberService::Stub::AddNumber, req, &n))
      Show(a, n, kNumberHeader, NumberRow(n));
  });
  number_add->add_option("e164", s.arg, "number in E.164 form")->required();
  number_add->add_option("--to", s.target, "route to: ext:<number>");
  Sub(number, "list", "list numbers", s, c, [&](Admin& a) {
    pb::ListNumbersRequest req;
    req.set_tenant_id(s.o.tenant);
    pb::ListNumbersResponse resp;
    if (a.Call(&pb::NumberService::Stub::ListNumbers, req, &resp)) {
      ShowList(a, resp, resp.numbers(), kNumberHeader, NumberRow);
    }
  });
  SubDelete<pb::DeleteNumberRequest, pb::DeleteNumberResponse>(
      number, "release a number", s, c, &pb::NumberService::Stub::DeleteNumber);

  // --- trunk ---
  CLI::App* trunk = app.add_subcommand("trunk", "carrier trunks");
  trunk->require_subcommand(1);
  CLI::App* trunk_create = Sub(trunk, "create", "create a trunk", s, c, [&](Admin& a) {
    pb::CreateTrunkRequest req;
    req.set_tenant_id(s.o.tenant);
    req.set_name(s.arg);
    req.set_host(s.host);
    req.set_port(s.port);
    req.set_transport(TransportOf(s.transport));
    req.set_username(s.user);
    req.set_password(s.password);
    for (const auto& src : s.sources) req.add_inbound_sources(src);
    for (const auto& text : s.prefixes) {
      if (!ParsePrefixRule(text, req.add_prefix_rules(), c)) return;
    }
    pb::Trunk t;
    if (a.Call(&pb::TrunkService::Stub::CreateTrunk, req, &t))
      Show(a, t, kTrunkHeader, TrunkRow(t));
  });
  trunk_create->add_option("name", s.arg)->required();
  trunk_create->add_option("--host", s.host, "carrier host")->required();
  trunk_create->add_option("--port", s.port, "gateway port (none: DNS SRV, else 5060/5061)");
  trunk_create->add_option("--transport", s.transport)->check(CLI::IsMember({"udp", "tcp", "tls"}));
  trunk_create->add_option("--user", s.user, "outbound digest username");
  trunk_create->add_option("--password", s.password, "outbound digest password");
  trunk_create->add_option("--source", s.sources, "inbound source CIDR (repeatable)");
  trunk_create->add_option("--prefix", s.prefixes,
                           "outbound rule MATCH:STRIP:PREPEND, e.g. 00:2:+ (repeatable)");
  Sub(trunk, "list", "list trunks", s, c, [&](Admin& a) {
    pb::ListTrunksRequest req;
    req.set_tenant_id(s.o.tenant);
    pb::ListTrunksResponse resp;
    if (a.Call(&pb::TrunkService::Stub::ListTrunks, req, &resp)) {
      ShowList(a, resp, resp.trunks(), kTrunkHeader, TrunkRow);
    }
  });
  // Only the options given change; --source and --prefix replace the whole list (--no-sources
  // and --no-prefixes empty it).
  struct TrunkUpdate {
    CLI::Option *host, *port, *transport, *user, *password, *sources, *prefixes;
    bool no_sources = false, no_prefixes = false;
  };
  auto update = std::make_shared<TrunkUpdate>();
  CLI::App* trunk_update = Sub(trunk, "update", "change a trunk", s, c, [&, update](Admin& a) {
    pb::UpdateTrunkRequest req;
    req.set_tenant_id(s.o.tenant);
    req.set_id(s.arg);
    if (update->host->count() > 0) req.set_host(s.host);
    if (update->port->count() > 0) req.set_port(s.port);
    if (update->transport->count() > 0) req.set_transport(TransportOf(s.transport));
    if (update->user->count() > 0) req.set_username(s.user);
    if (update->password->count() > 0) req.set_password(s.password);
    if (update->sources->count() > 0 || update->no_sources) {
      req.set_replace_inbound_sources(true);
      for (const auto& src : s.sources) req.add_inbound_sources(src);
    }
    if (update->prefixes->count() > 0 || update->no_prefixes) {
      req.set_replace_prefix_rules(true);
      for (const auto& text : s.prefixes) {
        if (!ParsePrefixRule(text, req.add_prefix_rules(), c)) return;
      }
    }
    pb::Trunk t;
    if (a.Call(&pb::TrunkService::Stub::UpdateTrunk, req, &t))
      Show(a, t, kTrunkHeader, TrunkRow(t));
  });
  trunk_update->add_option("id", s.arg)->required();
  update->host = trunk_update->add_option("--host", s.host, "carrier host");
  update->port =
      trunk_update->add_option("--port", s.port, "gateway port (0: DNS SRV, else 5060/5061)");
  update->transport = trunk_update->add_option("--transport", s.transport)
                          ->check(CLI::IsMember({"udp", "tcp", "tls"}));
  update->user = trunk_update->add_option("--user", s.user, "outbound digest username");
  update->password = trunk_update->add_option("--password", s.password, "outbound digest password");
  update->sources =
      trunk_update->add_option("--source", s.sources, "inbound source CIDRs (the new list)");
  update->prefixes = trunk_update->add_option("--prefix", s.prefixes,
                                              "outbound rules MATCH:STRIP:PREPEND (the new list)");
  trunk_update->add_flag("--no-sources", update->no_sources, "no inbound sources");
  trunk_update->add_flag("--no-prefixes", update->no_prefixes, "no outbound rules");
  SubDelete<pb::DeleteTrunkRequest, pb::DeleteTrunkResponse>(trunk, "delete a trunk", s, c,
                                                             &pb::TrunkService::Stub::DeleteTrunk);

  // --- audit ---
  CLI::App* audit = app.add_subcommand("audit", "the audit log of changes (read-only)");
  audit->require_subcommand(1);
  CLI::App* audit_list =
      Sub(audit, "list", "list audit entries, oldest first", s, c, [&](Admin& a) {
        pb::ListAuditEntriesRequest req;
        req.set_tenant_id(s.o.tenant);
        req.set_resource_type(s.resource_type);
        req.set_resource_id(s.resource_id);
        req.set_actor_key_id(s.actor);
        if (!s.since.empty() && !ParseTime(s.since, "--since", req.mutable_since(), c)) return;
        if (!s.until.empty() && !ParseTime(s.until, "--until", req.mutable_until(), c)) return;
        req.mutable_page()->set_page_size(s.page_size);
        req.mutable_page()->set_page_token(s.page_token);
        pb::ListAuditEntriesResponse resp;
        if (!a.Call(&pb::AuditService::Stub::ListAuditEntries, req, &resp)) return;
        ShowList(a, resp, resp.entries(), kAuditHeader, AuditRow);
        if (!s.o.json && !resp.page().next_page_token().empty()) {
          c.out << "\nmore: --page-token " << resp.page().next_page_token() << "\n";
        }
      });
  audit_list->add_option("--type", s.resource_type,
                         "resource type: tenant, api_key, extension, number, trunk");
  audit_list->add_option("--resource", s.resource_id, "resource id");
  audit_list->add_option("--actor", s.actor, "id of the API key that made the change");
  audit_list->add_option("--since", s.since, "entries at or after this RFC 3339 time");
  audit_list->add_option("--until", s.until, "entries before this RFC 3339 time");
  audit_list->add_option("--page-size", s.page_size, "entries per page (default 50)");
  audit_list->add_option("--page-token", s.page_token, "the token printed after a full page");
}

}  // namespace sb::sbctl
