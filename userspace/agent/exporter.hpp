// The agent's /metrics: prometheus-cpp's Exposer serving one Collectable
// that turns the latest published FoldSnapshot into metric families. A
// scrape only copies a shared_ptr under a mutex held for that copy: the
// session thread, which publishes, never waits on a scrape.
#pragma once

#include "agent/fold_model.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace prometheus {
class Exposer;
class Collectable;
} // namespace prometheus

namespace pctx::detail {

// The Prometheus family a counter is exported as, in base units:
// cpu-clock and task-clock (ns) become seconds.
struct CounterFamily {
    std::string name; // "pctx_cpu_seconds_total"
    double scale = 1; // multiplies the raw count
    std::string help;
};
// For each counter in order; a second clock gets a name of its own.
std::vector<CounterFamily> counter_families(const std::vector<std::string>& counters);

class SnapshotStore {
public:
    void publish(std::shared_ptr<const FoldSnapshot> snapshot);
    std::shared_ptr<const FoldSnapshot> latest() const;

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const FoldSnapshot> latest_;
};

class Exporter {
public:
    // listen: "ADDR:PORT" (port 0: any free one). Throws pctx::Error("agent", ...)
    // when it cannot listen there.
    Exporter(const std::string& listen, const SnapshotStore& store);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    int port() const; // the port it listens on

private:
    std::shared_ptr<prometheus::Collectable> collectable_;
    std::unique_ptr<prometheus::Exposer> exposer_;
};

} // namespace pctx::detail
