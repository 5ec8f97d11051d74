#include "gateway/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <charconv>

#include "matching/assert.hpp"

namespace ipx::gateway {
namespace {

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + "=\"" + escape_label_value(v) + '"';
  }
  return out;
}

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  IPX_ASSERT(r.ec == std::errc{});
  return std::string(buf, r.ptr);
}

void line(std::string& out, const std::string& name, const std::string& labels,
          const std::string& value) {
  out += name;
  if (!labels.empty()) out += '{' + labels + '}';
  out += ' ';
  out += value;
  out += '\n';
}

std::string join_labels(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + ',' + b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  IPX_ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // first bound >= v
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Histogram::bucket(std::size_t i) const noexcept {
  IPX_ASSERT(i <= bounds_.size());
  return buckets_[i].load(std::memory_order_relaxed);
}

std::vector<double> latency_buckets_seconds() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0, 10.0};
}

Metrics::Series& Metrics::series(const std::string& name, const std::string& help, Type type,
                                 const Labels& labels) {
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}});
  IPX_ASSERT(it->second.type == type);
  const std::string rendered = render_labels(labels);
  for (auto& s : it->second.series) {
    if (s.labels == rendered) return s;
  }
  auto& s = it->second.series.emplace_back();
  s.labels = rendered;
  return s;
}

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series(name, help, Type::counter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series(name, help, Type::gauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

RealGauge& Metrics::real_gauge(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series(name, help, Type::gauge, labels);
  if (!s.real_gauge) s.real_gauge = std::make_unique<RealGauge>();
  return *s.real_gauge;
}

void Metrics::add_collector(std::function<void()> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                              std::vector<double> upper_bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& s = series(name, help, Type::histogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return *s.histogram;
}

std::string Metrics::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::counter ? "counter"
                       : family.type == Type::gauge ? "gauge"
                                                    : "histogram";
    out += "# HELP " + name + ' ' + escape_help(family.help) + '\n';
    out += "# TYPE " + name + ' ' + type + '\n';
    for (const auto& s : family.series) {
      if (s.counter) {
        line(out, name, s.labels, std::to_string(s.counter->value()));
      } else if (s.gauge) {
        line(out, name, s.labels, std::to_string(s.gauge->value()));
      } else if (s.real_gauge) {
        line(out, name, s.labels, format_double(s.real_gauge->value()));
      } else if (s.histogram) {
        const Histogram& h = *s.histogram;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds().size(); ++i) {
          cumulative += h.bucket(i);
          line(out, name + "_bucket",
               join_labels(s.labels, "le=\"" + format_double(h.bounds()[i]) + '"'),
               std::to_string(cumulative));
        }
        cumulative += h.bucket(h.bounds().size());
        line(out, name + "_bucket", join_labels(s.labels, "le=\"+Inf\""),
             std::to_string(cumulative));
        line(out, name + "_sum", s.labels, format_double(h.sum()));
        line(out, name + "_count", s.labels, std::to_string(cumulative));
      }
    }
  }
  return out;
}

}  // namespace ipx::gateway
