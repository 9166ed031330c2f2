#include "switchboard/core/settings.h"

#include <CLI/CLI.hpp>
#include <cassert>
#include <charconv>
#include <cstdlib>
#include <iostream>

namespace sb::core {
namespace {

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

bool ParseInt(std::string_view v, int64_t& out) {
  if (v.empty()) return false;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && ptr == v.data() + v.size();
}

std::string Quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

Status HostPortOf(std::string_view v, std::string_view what) {
  size_t colon;
  if (!v.empty() && v.front() == '[') {
    const size_t close = v.find(']');
    if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') {
      return Invalid("must be " + std::string(what) + " [v6addr]:port, got " + Quoted(v));
    }
    colon = close + 1;
  } else {
    colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Invalid("must be " + std::string(what) + "host:port, got " + Quoted(v));
    }
  }
  int64_t port;
  if (!ParseInt(v.substr(colon + 1), port) || port < 1 || port > 65535) {
    return Invalid("port must be 1..65535 in " + Quoted(v));
  }
  return Status::Ok();
}

Status UrlWithScheme(std::string_view v, std::string_view scheme) {
  if (v.substr(0, scheme.size()) != scheme) {
    return Invalid("must be a " + std::string(scheme) + "host:port URL, got " + Quoted(v));
  }
  std::string_view rest = v.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  const size_t at = rest.rfind('@');  // user:password@ is allowed
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  return HostPortOf(rest, scheme);
}

}  // namespace

Result<Settings> Settings::Load(std::span<const SettingSpec> specs, int argc,
                                const char* const* argv,
                                const std::function<const char*(const char*)>& getenv) {
  CLI::App app{argc > 0 ? argv[0] : "switchboard"};
  std::map<std::string, std::string> from_flags;
  for (const auto& spec : specs) {
    std::string description = spec.help + " (env " + spec.env + ")";
    if (spec.default_value) description += " [default: " + *spec.default_value + "]";
    app.add_option("--" + spec.flag, from_flags[spec.flag], description);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what(), "argv");
  }

  Settings settings;
  for (const auto& spec : specs) {
    const bool flag_given = app.count("--" + spec.flag) > 0;
    const char* env_value = getenv(spec.env.c_str());
    std::string value;
    if (flag_given) {
      value = from_flags[spec.flag];
    } else if (env_value != nullptr && *env_value != '\0') {
      value = env_value;
    } else if (spec.default_value) {
      value = *spec.default_value;
    } else {
      return Status::InvalidArgument("is required but not set", spec.flag);
    }
    if (spec.validate) {
      Status valid = spec.validate(value);
      if (!valid.ok()) return Status::InvalidArgument(valid.message(), spec.flag);
    }
    settings.values_.emplace(spec.flag, std::move(value));
  }
  return settings;
}

const std::string& Settings::Get(std::string_view flag) const {
  static const std::string kEmpty;
  auto it = values_.find(flag);
  assert(it != values_.end() && "setting was not declared");
  return it == values_.end() ? kEmpty : it->second;
}

int64_t Settings::GetInt(std::string_view flag) const {
  int64_t v = 0;
  ParseInt(Get(flag), v);
  return v;
}

bool Settings::GetBool(std::string_view flag) const {
  const std::string& v = Get(flag);
  return v == "true" || v == "1" || v == "yes";
}

Settings LoadSettingsOrExit(std::string_view program, std::span<const SettingSpec> specs, int argc,
                            const char* const* argv) {
  auto settings = Settings::Load(specs, argc, argv, [](const char* n) { return std::getenv(n); });
  if (settings.ok()) return std::move(settings).value();
  const Status& s = settings.status();
  std::string name = s.field();
  for (const auto& spec : specs) {
    if (spec.flag == s.field()) name = spec.env + " (--" + spec.flag + ")";
  }
  if (s.field() == "argv") {
    std::cerr << program << ": bad command line: " << s.message() << "\n";
  } else {
    std::cerr << program << ": bad setting " << name << ": " << s.message() << "\n";
  }
  std::exit(2);
}

Status IsNonEmpty(std::string_view v) {
  return v.empty() ? Invalid("must not be empty") : Status::Ok();
}

Status IsPort(std::string_view v) {
  int64_t n;
  if (!ParseInt(v, n) || n < 0 || n > 65535) {
    return Invalid("must be a port number 0..65535, got " + Quoted(v));
  }
  return Status::Ok();
}

Status IsPositiveInt(std::string_view v) {
  int64_t n;
  if (!ParseInt(v, n) || n <= 0) return Invalid("must be a positive integer, got " + Quoted(v));
  return Status::Ok();
}

Status IsBool(std::string_view v) {
  for (std::string_view ok : {"true", "false", "1", "0", "yes", "no"}) {
    if (v == ok) return Status::Ok();
  }
  return Invalid("must be true or false, got " + Quoted(v));
}

Status IsHostPort(std::string_view v) { return HostPortOf(v, ""); }

Status IsNatsUrl(std::string_view v) {
  // A comma-separated list of servers is how cnats takes a cluster.
  while (true) {
    const size_t comma = v.find(',');
    SB_RETURN_IF_ERROR(UrlWithScheme(v.substr(0, comma), "nats://"));
    if (comma == std::string_view::npos) return Status::Ok();
    v.remove_prefix(comma + 1);
  }
}

Status IsRedisUrl(std::string_view v) { return ParseRedisUrl(v).status(); }

Status IsPostgresDsn(std::string_view v) {
  if (v.substr(0, 13) == "postgresql://" || v.substr(0, 11) == "postgres://") return Status::Ok();
  if (v.find('=') != std::string_view::npos) return Status::Ok();
  return Invalid("must be a libpq DSN (host=... port=... dbname=...) or postgresql:// URL, got " +
                 Quoted(v));
}

SettingValidator OneOf(std::initializer_list<std::string_view> choices) {
  std::vector<std::string> list(choices.begin(), choices.end());
  return [list](std::string_view v) {
    std::string all;
    for (const auto& c : list) {
      if (v == c) return Status::Ok();
      all += (all.empty() ? "" : ", ") + c;
    }
    return Invalid("must be one of " + all + ", got " + Quoted(v));
  };
}

SettingSpec NatsUrlSetting() {
  return {"nats-url", "SB_NATS_URL", "NATS server URL(s)", std::nullopt, IsNatsUrl};
}
SettingSpec PostgresDsnSetting() {
  return {"pg-dsn", "SB_PG_DSN", "PostgreSQL DSN", std::nullopt, IsPostgresDsn};
}
SettingSpec RedisUrlSetting() {
  return {"redis-url", "SB_REDIS_URL", "Redis URL", std::nullopt, IsRedisUrl};
}
SettingSpec HttpPortSetting(std::string default_port) {
  return {"http-port", "SB_HTTP_PORT", "port of /healthz, /readyz and /metrics",
          std::move(default_port), IsPort};
}
SettingSpec LogLevelSetting() {
  return {"log-level", "SB_LOG_LEVEL", "minimum log level", "info",
          OneOf({"debug", "info", "warn", "error"})};
}

Result<RedisAddress> ParseRedisUrl(std::string_view v) {
  SB_RETURN_IF_ERROR(UrlWithScheme(v, "redis://"));
  RedisAddress out;
  std::string_view rest = v.substr(8);
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  const size_t at = hostport.rfind('@');
  if (at != std::string_view::npos) hostport = hostport.substr(at + 1);
  const size_t colon = hostport.rfind(':');
  out.host = std::string(hostport.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[')
    out.host = out.host.substr(1, out.host.size() - 2);
  int64_t port = 0;
  ParseInt(hostport.substr(colon + 1), port);
  out.port = static_cast<int>(port);
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    int64_t db;
    if (!ParseInt(rest.substr(slash + 1), db) || db < 0) {
      return Invalid("database must be a number in " + Quoted(v));
    }
    out.db = static_cast<int>(db);
  }
  return out;
}

}  // namespace sb::core
