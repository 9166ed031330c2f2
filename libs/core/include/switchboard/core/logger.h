// Logger: one JSON object per line on stdout (ARCHITECTURE.md), with tenant_id and call_id
// wherever they are known.
//
//   sb::core::Logger log("signaling");
//   auto call_log = log.With({{"tenant_id", tenant.str()}, {"call_id", call_id}});
//   call_log.Info("call answered", {{"sip_code", 200}});
//   // {"ts":"2026-11-21T13:25:52.123Z","level":"info","service":"signaling",
//   //  "msg":"call answered","tenant_id":"...","call_id":"...","sip_code":200}
//
// Thread-safe: lines from several threads never interleave. Copies share one sink.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "switchboard/core/clock.h"

namespace sb::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
LogLevel ParseLogLevel(std::string_view name);  // unknown names mean info

struct LogField {
  using Value = std::variant<std::string, int64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string key;
  Value value;
};

class Logger {
 public:
  // Writes to stdout. The clock is borrowed and must outlive the logger (default: a static
  // SystemClock).
  explicit Logger(std::string service, LogLevel min_level = LogLevel::kInfo);
  Logger(std::string service, std::ostream& out, LogLevel min_level, const Clock& clock);

  // A logger that adds these fields to every line (tenant_id, call_id, ...).
  Logger With(std::initializer_list<LogField> fields) const;

  void Debug(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kError, msg, fields);
  }
  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const;

  bool Enabled(LogLevel level) const;

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
  std::vector<LogField> context_;
};

}  // namespace sb::core
