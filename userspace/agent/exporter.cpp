#include "agent/exporter.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <utility>

namespace pctx::detail {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string sanitized(const std::string& event)
{
    std::string out;
    for (char c : event)
        out += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    return out;
}

MetricFamily family(std::string name, std::string help, MetricType type)
{
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

ClientMetric sample(std::vector<ClientMetric::Label> labels, double value, MetricType type)
{
    ClientMetric m;
    m.label = std::move(labels);
    if (type == MetricType::Counter)
        m.counter.value = value;
    else
        m.gauge.value = value;
    return m;
}

std::vector<ClientMetric::Label> labels_of(const SeriesKey& key, const SeriesTotals& totals)
{
    std::vector<ClientMetric::Label> l{
        {"cgroup", key.cgroup}, {"comm", key.comm}, {"container_id", totals.container_id}};
    if (key.pid != 0)
        l.push_back({"pid", std::to_string(key.pid)});
    return l;
}

double agent_cpu_seconds()
{
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    const auto secs = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double resident_bytes()
{
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

class SnapshotCollectable : public prometheus::Collectable {
public:
    explicit SnapshotCollectable(const SnapshotStore& store) : store_(store) {}

    std::vector<MetricFamily> Collect() const override
    {
        std::vector<MetricFamily> out;
        if (const auto snap = store_.latest())
            series_families(*snap, out);
        auto cpu = family("pctx_agent_cpu_seconds_total", "CPU time the agent itself used",
                          MetricType::Counter);
        cpu.metric.push_back(sample({}, agent_cpu_seconds(), MetricType::Counter));
        out.push_back(std::move(cpu));
        auto rss = family("process_resident_memory_bytes", "Resident memory of the agent",
                          MetricType::Gauge);
        rss.metric.push_back(sample({}, resident_bytes(), MetricType::Gauge));
        out.push_back(std::move(rss));
        return out;
    }

private:
    static void series_families(const FoldSnapshot& snap, std::vector<MetricFamily>& out)
    {
        const auto counters = counter_families(snap.counter_names);
        for (std::size_t i = 0; i < counters.size(); ++i) {
            auto f = family(counters[i].name, counters[i].help, MetricType::Counter);
            for (const auto& [key, totals] : snap.series)
                f.metric.push_back(
                    sample(labels_of(key, totals),
                           static_cast<double>(totals.counters[i]) * counters[i].scale,
                           MetricType::Counter));
            out.push_back(std::move(f));
        }
        auto execs = family("pctx_execs_total", "Programs exec'd", MetricType::Counter);
        auto forks = family("pctx_forks_total", "Processes forked", MetricType::Counter);
        auto threads = family("pctx_threads_created_total", "Threads created", MetricType::Counter);
        auto exits =
            family("pctx_exits_total",
                   "Processes ended, by status: 0, non-zero, the killing signal, or unknown",
                   MetricType::Counter);
        for (const auto& [key, totals] : snap.series) {
            const auto l = labels_of(key, totals);
            execs.metric.push_back(
                sample(l, static_cast<double>(totals.execs), MetricType::Counter));
            forks.metric.push_back(
                sample(l, static_cast<double>(totals.forks), MetricType::Counter));
            threads.metric.push_back(
                sample(l, static_cast<double>(totals.threads_created), MetricType::Counter));
            for (const auto& [status, n] : totals.exits) {
                auto with_status = l;
                with_status.push_back({"status", status});
                exits.metric.push_back(
                    sample(std::move(with_status), static_cast<double>(n), MetricType::Counter));
            }
        }
        for (auto* f : {&execs, &forks, &threads, &exits})
            out.push_back(std::move(*f));

        auto procs = family("pctx_tracked_processes", "Processes traced now", MetricType::Gauge);
        procs.metric.push_back(sample({}, static_cast<double>(snap.processes), MetricType::Gauge));
        out.push_back(std::move(procs));
        auto lwps = family("pctx_tracked_threads", "Threads traced now", MetricType::Gauge);
        lwps.metric.push_back(sample({}, static_cast<double>(snap.threads), MetricType::Gauge));
        out.push_back(std::move(lwps));

        auto lost =
            family("pctx_lost_events_total", "What the kernel could not record or follow, by kind",
                   MetricType::Counter);
        const LostCounts& l = snap.lost;
        for (const auto& [kind, n] :
             std::vector<std::pair<const char*, std::uint64_t>>{{"fork", l.fork},
                                                                {"lwp_create", l.lwp_create},
                                                                {"exec", l.exec},
                                                                {"exit", l.exit},
                                                                {"lwp_exit", l.lwp_exit},
                                                                {"tracked_full", l.tracked_full},
                                                                {"threads_full", l.threads_full}})
            lost.metric.push_back(
                sample({{"kind", kind}}, static_cast<double>(n), MetricType::Counter));
        out.push_back(std::move(lost));
    }

    const SnapshotStore& store_;
};

} // namespace

std::vector<CounterFamily> counter_families(const std::vector<std::string>& counters)
{
    std::vector<CounterFamily> out;
    bool clock_named = false;
    for (const std::string& c : counters) {
        const std::string base = c.substr(0, c.find(':'));
        if ((base == "task-clock" || base == "cpu-clock") && !clock_named) {
            clock_named = true;
            out.push_back({"pctx_cpu_seconds_total", 1e-9, "CPU time (" + c + "), in seconds"});
        } else if (base == "task-clock" || base == "cpu-clock") {
            out.push_back({"pctx_" + sanitized(c) + "_seconds_total", 1e-9, c + ", in seconds"});
        } else {
            out.push_back({"pctx_" + sanitized(c) + "_total", 1, "Count of the perf event " + c});
        }
    }
    return out;
}

void SnapshotStore::publish(std::shared_ptr<const FoldSnapshot> snapshot)
{
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = std::move(snapshot);
}

std::shared_ptr<const FoldSnapshot> SnapshotStore::latest() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return latest_;
}

Exporter::Exporter(const std::string& listen, const SnapshotStore& store)
    : collectable_(std::make_shared<SnapshotCollectable>(store))
{
    try {
        exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
    } catch (const std::exception& e) {
        throw Error("agent", "cannot listen on " + listen + " (" + e.what() +
                                 "): give --listen a free ADDR:PORT");
    }
    exposer_->RegisterCollectable(collectable_, "/metrics");
}

Exporter::~Exporter() = default;

int Exporter::port() const
{
    const auto ports = exposer_->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
}

} // namespace pctx::detail
