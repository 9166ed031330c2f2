#include "switchboard/core/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace sb::core {
namespace {

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string LabelText(const Labels& labels, std::string_view extra_key = {},
                      std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + EscapeLabel(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += std::string(extra_key) + "=\"" + std::string(extra_value) + "\"";
  }
  return out + "}";
}

}  // namespace

HistogramMetric::HistogramMetric(std::span<const double> upper_bounds)
    : bounds_(upper_bounds.begin(), upper_bounds.end()),
      buckets_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void HistogramMetric::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(std::string_view name, std::string_view help,
                                                    Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}}).first;
  }
  assert(it->second.type == type && "one metric name, one type");
  return it->second;
}

CounterMetric& MetricsRegistry::Counter(std::string_view name, std::string_view help,
                                        const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyFor(name, help, Type::kCounter).counters[labels];
  if (!slot) slot = std::make_unique<CounterMetric>();
  return *slot;
}

GaugeMetric& MetricsRegistry::Gauge(std::string_view name, std::string_view help,
                                    const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyFor(name, help, Type::kGauge).gauges[labels];
  if (!slot) slot = std::make_unique<GaugeMetric>();
  return *slot;
}

HistogramMetric& MetricsRegistry::Histogram(std::string_view name, std::string_view help,
                                            std::span<const double> upper_bounds,
                                            const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyFor(name, help, Type::kHistogram).histograms[labels];
  if (!slot) slot = std::make_unique<HistogramMetric>(upper_bounds);
  return *slot;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + kTypeNames[static_cast<int>(family.type)] + "\n";
    for (const auto& [labels, c] : family.counters) {
      out += name + LabelText(labels) + " " + Number(c->value()) + "\n";
    }
    for (const auto& [labels, g] : family.gauges) {
      out += name + LabelText(labels) + " " + Number(g->value()) + "\n";
    }
    for (const auto& [labels, h] : family.histograms) {
      uint64_t cumulative = 0;
      const auto& bounds = h->upper_bounds();
      for (size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += h->bucket(i);
        const std::string le = i < bounds.size() ? Number(bounds[i]) : "+Inf";
        out += name + "_bucket" + LabelText(labels, "le", le) + " " + std::to_string(cumulative) +
               "\n";
      }
      out += name + "_sum" + LabelText(labels) + " " + Number(h->sum()) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

}  // namespace sb::core
