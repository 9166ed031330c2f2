#include "switchboard/core/logger.h"

#include <ctime>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

namespace sb::core {

struct Logger::Sink {
  std::string service;
  std::ostream* out;
  LogLevel min_level;
  const Clock* clock;
  std::mutex mu;
};

namespace {

const SystemClock kSystemClock;

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp(Clock::WallTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf,
                static_cast<int>(ms.count() % 1000));
  return out;
}

}  // namespace

LogLevel ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

Logger::Logger(std::string service, LogLevel min_level)
    : Logger(std::move(service), std::cout, min_level, kSystemClock) {}

Logger::Logger(std::string service, std::ostream& out, LogLevel min_level, const Clock& clock)
    : sink_(std::make_shared<Sink>()) {
  sink_->service = std::move(service);
  sink_->out = &out;
  sink_->min_level = min_level;
  sink_->clock = &clock;
}

Logger Logger::With(std::initializer_list<LogField> fields) const {
  Logger child = *this;
  child.context_.insert(child.context_.end(), fields.begin(), fields.end());
  return child;
}

bool Logger::Enabled(LogLevel level) const { return level >= sink_->min_level; }

void Logger::Log(LogLevel level, std::string_view msg,
                 std::initializer_list<LogField> fields) const {
  if (!Enabled(level)) return;
  // ordered_json keeps ts, level, service and msg first, which is what people read first.
  nlohmann::ordered_json line;
  line["ts"] = Timestamp(sink_->clock->WallNow());
  line["level"] = LevelName(level);
  line["service"] = sink_->service;
  line["msg"] = msg;
  for (const auto& f : context_) std::visit([&](const auto& v) { line[f.key] = v; }, f.value);
  for (const auto& f : fields) std::visit([&](const auto& v) { line[f.key] = v; }, f.value);
  // Invalid UTF-8 from the wire must not throw out of a log call.
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::lock_guard lock(sink_->mu);
  *sink_->out << text << '\n';
  sink_->out->flush();
}

}  // namespace sb::core
