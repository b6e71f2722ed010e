#include "nanocaf/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace nanocaf::metrics {

// -- histogram ------------------------------------------------------------------------------

histogram::histogram(std::vector<double> upper_bounds)
  : bounds_(std::move(upper_bounds)),
    buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double seconds) noexcept {
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) -
                                    bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + seconds, std::memory_order_relaxed)) {
  }
}

std::vector<std::uint64_t> histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> histogram::latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,     10};
}

// -- family ---------------------------------------------------------------------------------

template <class Metric>
Metric& family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size())
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values");
  std::lock_guard<std::mutex> guard{mu_};
  auto& slot = children_[label_values];
  if (!slot)
    slot = make_();
  return *slot;
}

template <class Metric>
void family<Metric>::each(
  const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& [labels, m] : children_)
    fn(labels, *m);
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

// -- rendering ------------------------------------------------------------------------------

namespace {

bool valid_name(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0])))
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

std::string escape(const std::string& s, bool quotes) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v))
    return "NaN";
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr; // shortest text that reads back as v
  return std::string(buf, end);
}

// {a="x",b="y"} plus an optional extra pair (a histogram's le).
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty())
    return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out += ',';
    out += names[i] + "=\"" + escape(values[i], true) + '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty())
      out += ',';
    out += extra_name + "=\"" + extra_value + '"';
  }
  return out + '}';
}

void header(std::ostringstream& os, const std::string& name, const std::string& help,
            const char* type) {
  os << "# HELP " << name << ' ' << escape(help, false) << "\n# TYPE " << name << ' ' << type
     << '\n';
}

void render_family(std::ostringstream& os, const family<counter>& f) {
  header(os, f.name(), f.help(), "counter");
  f.each([&](auto& labels, const counter& c) {
    os << f.name() << label_set(f.label_names(), labels) << ' ' << c.value() << '\n';
  });
}

void render_family(std::ostringstream& os, const family<gauge>& f) {
  header(os, f.name(), f.help(), "gauge");
  f.each([&](auto& labels, const gauge& g) {
    os << f.name() << label_set(f.label_names(), labels) << ' ' << g.value() << '\n';
  });
}

void render_family(std::ostringstream& os, const family<histogram>& f) {
  header(os, f.name(), f.help(), "histogram");
  f.each([&](auto& labels, const histogram& h) {
    auto counts = h.bucket_counts();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      auto le = i < h.upper_bounds().size() ? number(h.upper_bounds()[i]) : "+Inf";
      os << f.name() << "_bucket" << label_set(f.label_names(), labels, "le", le) << ' '
         << cumulative << '\n';
    }
    // _count is the bucket total, so the two always agree within one scrape.
    os << f.name() << "_sum" << label_set(f.label_names(), labels) << ' ' << number(h.sum())
       << '\n'
       << f.name() << "_count" << label_set(f.label_names(), labels) << ' ' << cumulative << '\n';
  });
}

// Standard process metrics, read from /proc as Prometheus client libraries do.
void render_process(std::ostringstream& os) {
  static const long ticks = sysconf(_SC_CLK_TCK);
  static const long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat{"/proc/self/stat"};
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields{text.substr(close_paren + 2)};
    std::vector<std::string> f;
    for (std::string x; fields >> x;)
      f.push_back(x);
    // Fields after the command start at field 3 (state): utime is 14, stime 15, starttime 22.
    if (f.size() > 19) {
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);
      header(os, "process_cpu_seconds_total", "User and system CPU time in seconds.", "counter");
      os << "process_cpu_seconds_total " << number(cpu) << '\n';
      std::ifstream uptime_file{"/proc/uptime"};
      double uptime = 0;
      uptime_file >> uptime;
      double boot = static_cast<double>(std::time(nullptr)) - uptime;
      header(os, "process_start_time_seconds", "Start time of the process since the epoch.",
             "gauge");
      os << "process_start_time_seconds "
         << number(std::floor(boot + std::stod(f[19]) / static_cast<double>(ticks))) << '\n';
    }
  }
  std::ifstream statm{"/proc/self/statm"};
  long size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    header(os, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
    os << "process_virtual_memory_bytes " << size_pages * page << '\n';
    header(os, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    os << "process_resident_memory_bytes " << resident_pages * page << '\n';
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    long fds = 0;
    while (auto* e = readdir(dir))
      if (e->d_name[0] != '.')
        ++fds;
    closedir(dir);
    header(os, "process_open_fds", "Open file descriptors.", "gauge");
    os << "process_open_fds " << fds - 1 << '\n'; // minus the one reading the folder
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    header(os, "process_max_fds", "Limit of open file descriptors.", "gauge");
    os << "process_max_fds " << lim.rlim_cur << '\n';
  }
}

} // namespace

// -- registry -------------------------------------------------------------------------------

struct registry::impl {
  using any_family = std::variant<std::unique_ptr<family<counter>>, std::unique_ptr<family<gauge>>,
                                  std::unique_ptr<family<histogram>>>;
  struct callback {
    std::string help;
    std::function<double()> fn;
  };
  mutable std::mutex mu;
  std::vector<std::string> order; // declaration order, for stable output
  std::map<std::string, any_family> families;
  std::map<std::string, callback> callbacks;

  template <class Metric>
  family<Metric>& declare(const std::string& name, const std::string& help,
                          std::vector<std::string> labels,
                          std::function<std::unique_ptr<Metric>()> make) {
    if (!valid_name(name))
      throw std::invalid_argument("bad metric name: " + name);
    for (auto& l : labels)
      if (!valid_name(l) || l == "le")
        throw std::invalid_argument("bad label name for " + name + ": " + l);
    std::lock_guard<std::mutex> guard{mu};
    if (callbacks.count(name))
      throw std::invalid_argument("metric " + name + " is already a callback gauge");
    auto it = families.find(name);
    if (it != families.end()) {
      auto* existing = std::get_if<std::unique_ptr<family<Metric>>>(&it->second);
      if (!existing || (*existing)->label_names() != labels)
        throw std::invalid_argument("metric " + name + " already declared differently");
      return **existing;
    }
    auto f = std::make_unique<family<Metric>>(name, help, std::move(labels), std::move(make));
    auto& ref = *f;
    families.emplace(name, std::move(f));
    order.push_back(name);
    return ref;
  }
};

registry::registry() : impl_(std::make_unique<impl>()) {}
registry::~registry() = default;

family<counter>& registry::counters(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  return impl_->declare<counter>(name, help, std::move(label_names),
                                 [] { return std::make_unique<counter>(); });
}

family<gauge>& registry::gauges(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  return impl_->declare<gauge>(name, help, std::move(label_names),
                               [] { return std::make_unique<gauge>(); });
}

family<histogram>& registry::histograms(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> upper_bounds) {
  return impl_->declare<histogram>(name, help, std::move(label_names), [upper_bounds] {
    return std::make_unique<histogram>(upper_bounds);
  });
}

void registry::gauge_callback(const std::string& name, const std::string& help,
                              std::function<double()> fn) {
  if (!valid_name(name))
    throw std::invalid_argument("bad metric name: " + name);
  std::lock_guard<std::mutex> guard{impl_->mu};
  if (impl_->families.count(name))
    throw std::invalid_argument("metric " + name + " is already declared");
  impl_->callbacks[name] = {help, std::move(fn)};
}

void registry::remove_callback(const std::string& name) {
  std::lock_guard<std::mutex> guard{impl_->mu};
  impl_->callbacks.erase(name);
}

std::string registry::render() const {
  std::ostringstream os;
  std::lock_guard<std::mutex> guard{impl_->mu};
  for (auto& name : impl_->order)
    std::visit([&](auto& f) { render_family(os, *f); }, impl_->families.at(name));
  for (auto& [name, cb] : impl_->callbacks) {
    header(os, name, cb.help, "gauge");
    os << name << ' ' << number(cb.fn()) << '\n';
  }
  render_process(os);
  return os.str();
}

} // namespace nanocaf::metrics
