#include "agent/agent.hpp"

#include "agent/cgroup_label.hpp"

#include <condition_variable>
#include <cstdio>
#include <thread>

namespace pctx::detail {
namespace {

Session watch(const AgentSettings& s)
{
    Options options;
    options.counters = s.counters;
    if (s.cgroup.empty())
        options.system_wide = true;
    else
        options.cgroup = s.cgroup;
    return Session::watch(options);
}

FoldModel::Labels labels_now(pid_t pid)
{
    return FoldModel::Labels{cgroup_of(pid).value_or(""), comm_of(pid).value_or("")};
}

} // namespace

Agent::Agent(AgentSettings settings) : settings_(std::move(settings)), session_(watch(settings_))
{
    if (!settings_.log)
        settings_.log = [](const std::string& m) {
            std::fprintf(stderr, "%s\n", m.c_str());
        };
    model_ = std::make_unique<FoldModel>(session_.counter_names(), settings_.per_pid,
                                         settings_.series_ttl, labels_now);
    publish();
    exporter_ = std::make_unique<Exporter>(settings_.listen, store_);

    auto& h = session_.handlers();
    h.init_lwp = [this](const LwpEvent& e) {
        const auto v = read(e.pid, e.tid);
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->thread_started(e.pid, e.tid, v);
    };
    h.tick = [this](const LwpEvent& e) {
        const auto v = read(e.pid, e.tid);
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->thread_ticked(e.pid, e.tid, v);
    };
    h.fini_lwp = [this](const LwpEvent& e) {
        const auto v = read(e.pid, e.tid);
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->thread_finished(e.pid, e.tid, v);
    };
    h.lwp_create = [this](const LwpEvent& e) {
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->thread_created(e.pid);
    };
    h.fork = [this](const ForkEvent& e) {
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->forked(e.pid, e.child_pid);
    };
    h.exec = [this](const ExecEvent& e) {
        const std::string comm =
            e.argv.empty() ? comm_of(e.pid).value_or("") : comm_from_argv0(e.argv.front());
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->execed(e.pid, comm);
    };
    h.exit = [this](const ExitEvent& e) {
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->exited(e);
    };
    h.lost = [this](const LostEvent& e) {
        settings_.log("pctx-bpf agent: " + std::to_string(e.count) + " events lost");
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->lost(session_.lost());
    };
    h.diagnostic = [this](const std::string& function, const std::string& message) {
        settings_.log("pctx-bpf agent: " + function + ": " + message);
    };
}

Agent::~Agent() = default;

std::vector<CounterValue> Agent::read(pid_t pid, pid_t tid)
{
    try {
        return session_.read_counters(pid, tid);
    } catch (const Error&) {
        return {}; // an uncounted thread (more than the map holds): lost as threads_full
    }
}

void Agent::publish()
{
    std::shared_ptr<const FoldSnapshot> snap;
    {
        std::lock_guard<std::mutex> lock(model_mutex_);
        model_->sweep(FoldModel::Clock::now());
        snap = std::make_shared<const FoldSnapshot>(model_->snapshot());
    }
    store_.publish(std::move(snap));
}

RunResult Agent::run()
{
    // The publisher: a quarter second is fresh enough for any scrape
    // interval and costs one copy of the series map.
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread publisher([&] {
        std::unique_lock<std::mutex> lock(m);
        while (!cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return done; })) {
            lock.unlock();
            publish();
            lock.lock();
        }
    });
    RunResult result = RunResult::Stopped;
    try {
        if (!stopping_.load())
            result = session_.run(settings_.tick);
    } catch (...) {
        {
            std::lock_guard<std::mutex> lock(m);
            done = true;
        }
        cv.notify_all();
        publisher.join();
        throw;
    }
    {
        std::lock_guard<std::mutex> lock(m);
        done = true;
    }
    cv.notify_all();
    publisher.join();
    publish();
    return result;
}

void Agent::terminate() noexcept
{
    stopping_.store(true);
    session_.terminate();
}

} // namespace pctx::detail
