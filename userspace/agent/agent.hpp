// The fleet agent: a session over the machine (or cgroup subtrees) whose
// events and per-thread counters fold into a FoldModel, published every
// quarter second as a snapshot that the Exporter serves at /metrics.
#pragma once

#include "agent/exporter.hpp"
#include "agent/fold_model.hpp"
#include "pctx/pctx.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace pctx::detail {

struct AgentSettings {
    std::string counters = "task-clock,context-switches,page-faults";
    std::string cgroup; // empty: every process of the machine
    std::string listen = "127.0.0.1:9464";
    bool per_pid = false;
    std::chrono::seconds series_ttl{600};
    std::chrono::milliseconds tick{5000}; // how often live threads' counters are folded
    // Diagnostics (what went wrong without stopping the agent). Default: stderr.
    std::function<void(const std::string&)> log;
};

class Agent {
public:
    // Loads the BPF programs and listens; throws pctx::Error (the session's
    // own, or Error("agent", ...) when the address is taken).
    explicit Agent(AgentSettings settings);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    int port() const { return exporter_->port(); }
    // Folds until terminate() (or the event stream breaks).
    RunResult run();
    // From anywhere, a signal handler included.
    void terminate() noexcept;

private:
    void publish();
    std::vector<CounterValue> read(pid_t pid, pid_t tid);

    AgentSettings settings_;
    Session session_;
    std::mutex model_mutex_; // the session thread folds, the publisher copies
    std::unique_ptr<FoldModel> model_;
    SnapshotStore store_;
    std::unique_ptr<Exporter> exporter_;
    std::atomic<bool> stopping_{false};
};

} // namespace pctx::detail
