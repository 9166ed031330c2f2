// Settings: each service reads its configuration from environment variables (SB_NATS_URL, ...),
// with command-line flags overriding them (--nats-url ...). A bad or missing setting stops the
// service at start-up with ONE line naming the setting and the reason.
//
//   const sb::core::SettingSpec kSpecs[] = {
//       sb::core::NatsUrlSetting(),
//       {"grpc-addr", "SB_ADMIN_GRPC_ADDR", "gRPC listen address", "127.0.0.1:7100",
//        sb::core::IsHostPort},
//   };
//   auto settings = sb::core::LoadSettingsOrExit("admin", kSpecs, argc, argv);
//   Connect(settings.Get("nats-url"));
//
// Precedence: flag, then environment, then the default; a spec without a default is required.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::core {

// Returns Ok or InvalidArgument whose message says what a valid value looks like.
using SettingValidator = std::function<Status(std::string_view value)>;

struct SettingSpec {
  std::string flag;  // without dashes: "nats-url" is given as --nats-url
  std::string env;   // "SB_NATS_URL"
  std::string help;
  std::optional<std::string> default_value;  // nullopt: required
  SettingValidator validate;                 // may be empty: any value
};

class Settings {
 public:
  // argv[0] is the program; --help prints every setting with its variable and exits.
  // getenv is injectable for tests.
  static Result<Settings> Load(std::span<const SettingSpec> specs, int argc,
                               const char* const* argv,
                               const std::function<const char*(const char*)>& getenv);

  // The value of a declared setting (flag name). Asking for an undeclared one is a programming
  // error: it aborts in debug builds and returns an empty string otherwise.
  const std::string& Get(std::string_view flag) const;
  int64_t GetInt(std::string_view flag) const;
  bool GetBool(std::string_view flag) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Loads settings or prints "<program>: bad setting SB_X (--x): <reason>" to stderr and exits 2.
Settings LoadSettingsOrExit(std::string_view program, std::span<const SettingSpec> specs, int argc,
                            const char* const* argv);

// Validators for the value kinds every service has.
Status IsNonEmpty(std::string_view v);
Status IsPort(std::string_view v);  // 0..65535 (0: a free port)
Status IsPositiveInt(std::string_view v);
Status IsBool(std::string_view v);         // true/false/1/0/yes/no
Status IsHostPort(std::string_view v);     // host:port or [v6]:port
Status IsNatsUrl(std::string_view v);      // nats://host:port[,nats://...]
Status IsRedisUrl(std::string_view v);     // redis://host:port[/db]
Status IsPostgresDsn(std::string_view v);  // key=value ... or postgresql://...
SettingValidator OneOf(std::initializer_list<std::string_view> choices);

// The settings every service shares (ARCHITECTURE.md: Configuration and operations).
SettingSpec NatsUrlSetting();
SettingSpec PostgresDsnSetting();
SettingSpec RedisUrlSetting();
SettingSpec HttpPortSetting(std::string default_port);
SettingSpec LogLevelSetting();

// Splits "redis://host:port/db" into its parts (validated by IsRedisUrl).
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
};
Result<RedisAddress> ParseRedisUrl(std::string_view url);

}  // namespace sb::core
