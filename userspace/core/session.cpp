// pctx::Session: starting (spawn, attach), the checks that come before, and
// release. The run loop lives in run_loop.cpp.
#include "core/session_impl.hpp"

#include "checks/preflight.hpp"
#include "procfs/pid_namespace.hpp"
#include "procfs/procfs.hpp"
#include "scope/cgroup_scope.hpp"

#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

namespace pctx {

Error::Error(std::string function, const std::string& message)
    : std::runtime_error(message), function_(std::move(function))
{
}

std::string join_args(const std::vector<std::string>& argv)
{
    std::string line;
    for (const auto& a : argv) {
        if (!line.empty())
            line += ' ';
        line += a;
    }
    return line;
}

std::string ExecEvent::command_line() const
{
    return join_args(argv);
}

bool ExitEvent::exited() const
{
    return WIFEXITED(wait_status);
}
int ExitEvent::exit_code() const
{
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 0;
}
int ExitEvent::signal() const
{
    return WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
}
bool ExitEvent::core_dumped() const
{
    return WIFSIGNALED(wait_status) && WCOREDUMP(wait_status);
}
int ExitEvent::shell_status() const
{
    return exited() ? exit_code() : 128 + signal();
}

std::uint64_t monotonic_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

std::unique_ptr<detail::LifecycleLoader> load_bpf(const char* fn, const Options& options,
                                                  const detail::PerfEventSet* perf)
{
    detail::require_environment(fn);
    detail::LoaderConfig config;
    config.ring_buffer_bytes = options.ring_buffer_bytes; // rounded by the loader
    config.max_processes = options.max_processes;
    config.max_threads = options.max_threads;
    config.verbose = options.verbose;
    config.counters = perf;
    config.pidns = options.pidns;
    if (options.system_wide && !options.cgroup.empty())
        throw Error(fn, "a cgroup scope and the whole machine exclude each other: give one");
    if (options.pidns != 0 && (options.system_wide || !options.cgroup.empty()))
        throw Error(fn, "a scope (a cgroup, the whole machine) reports this pid namespace's ids: "
                        "--pidns goes with -p only");
    if (options.system_wide)
        config.scope_kind = PCTX_SCOPE_ALL;
    if (!options.cgroup.empty()) {
        try {
            config.scope_cgroup_id = detail::open_cgroup(options.cgroup).id;
        } catch (const std::invalid_argument& e) {
            throw Error(fn, e.what());
        }
        config.scope_kind = PCTX_SCOPE_CGROUP;
    }
    try {
        return std::make_unique<detail::LifecycleLoader>(config);
    } catch (const std::runtime_error& e) {
        throw Error(fn, e.what());
    }
}

namespace {

void check_capturable(pid_t pid)
{
    const std::string p = std::to_string(pid);
    if (pid == ::getpid())
        throw Error("capture", "cannot capture self");
    switch (detail::process_state(pid)) {
    case detail::ProcessState::Missing:
        throw Error("capture", "pid " + p + " doesn't exist");
    case detail::ProcessState::Zombie:
        throw Error("capture", "pid " + p + " is a zombie");
    case detail::ProcessState::KernelThread:
        throw Error("capture", "pid " + p + " is a system process");
    case detail::ProcessState::Running:
        break;
    }
    if (const std::string thread = detail::thread_not_process(pid); !thread.empty())
        throw Error("capture", thread);
    if (!detail::may_observe(pid))
        throw Error("capture", "pid " + p + ": permission denied");
}

} // namespace

Session::Impl::Impl(Options opts, pid_t pid, bool was_spawned)
    : options(std::move(opts)), target(pid), spawned(was_spawned)
{
    handlers.diagnostic = [](const std::string& fn, const std::string& msg) {
        std::fprintf(stderr, "pctx: %s: %s\n", fn.c_str(), msg.c_str());
    };
    dispatcher.add_observer(&accounting);
    wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    // Without it terminate() could not end a run: refuse to start instead.
    if (!wake)
        throw Error(was_spawned ? "create" : "capture",
                    std::string("cannot create the eventfd that ends a run: ") +
                        std::strerror(errno));
}

void Session::Impl::release() noexcept
{
    // From a handler: the loop still uses all of it; run() releases on return.
    if (running) {
        release_pending = true;
        stop_requested = true;
        return;
    }
    // The tree dies first, while nothing is left to observe it; then the BPF
    // links close with the loader.
    spawner.reset();
    loader.reset();
    perf.reset();
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session()
{
    release();
}

Session Session::spawn(const std::vector<std::string>& argv, const Options& options)
{
    if (argv.empty())
        throw Error("create", "no program to run");
    return spawn(argv.front(), argv, options);
}

Session Session::spawn(const std::string& program, const std::vector<std::string>& argv,
                       const Options& options)
{
    const std::string& name = program;
    if (name.empty())
        throw Error("create", "no program to run");
    if (options.pidns != 0)
        throw Error("create", "a pid namespace to report in is for captured processes only: a "
                              "started command lives in this one");
    std::string path;
    switch (detail::find_program(name, path)) {
    case 0:
        break;
    case ENOENT:
    case ENOTDIR:
        throw Error("create", "cannot find program '" + name + "'");
    default:
        throw Error("create", "cannot execute program '" + name + "'");
    }

    Counting counting;
    if (!options.counters.empty())
        counting = open_counters("create", options.counters);
    auto loader = load_bpf("create", options, counting.perf.get());
    std::unique_ptr<detail::Spawner> spawner;
    try {
        spawner = std::make_unique<detail::Spawner>(path, argv);
    } catch (const std::runtime_error& e) {
        throw Error("create", std::string(e.what()) + ", program '" + name + "'");
    }
    auto impl = std::make_unique<Impl>(options, spawner->target(), true);
    impl->program = name;
    impl->count_with(std::move(counting));
    impl->loader = std::move(loader);
    impl->spawner = std::move(spawner);
    impl->dispatcher.set_root(impl->target);
    return Session(std::move(impl));
}

Session Session::attach(pid_t pid, const Options& options)
{
    check_capturable(pid);
    Counting counting;
    if (!options.counters.empty())
        counting = open_counters("capture", options.counters);
    auto impl = std::make_unique<Impl>(options, pid, false);
    const pid_t root = impl->seen(pid); // before loading: it may refuse
    impl->loader = load_bpf("capture", options, counting.perf.get());
    impl->count_with(std::move(counting));
    impl->dispatcher.set_root(root);
    return Session(std::move(impl));
}

Session Session::watch(const Options& options)
{
    if (!options.system_wide && options.cgroup.empty())
        throw Error("watch", "nothing to watch: give a cgroup (Options::cgroup) or the whole "
                             "machine (Options::system_wide)");
    Counting counting;
    if (!options.counters.empty())
        counting = open_counters("watch", options.counters);
    auto impl = std::make_unique<Impl>(options, 0, false);
    impl->loader = load_bpf("watch", options, counting.perf.get());
    impl->count_with(std::move(counting));
    return Session(std::move(impl));
}

Handlers& Session::handlers()
{
    return impl_->handlers;
}
Options& Session::options()
{
    return impl_->options;
}

RunResult Session::run(std::chrono::milliseconds interval, unsigned nsamples)
{
    return impl_->run(interval, nsamples);
}

void Session::stop()
{
    impl_->stop_requested = true;
}

void Session::terminate() noexcept
{
    if (impl_ && impl_->wake) {
        const std::uint64_t one = 1;
        (void)!::write(impl_->wake.get(), &one, sizeof(one));
    }
}

void Session::release() noexcept
{
    if (impl_)
        impl_->release();
}

Session Session::attach(const std::vector<pid_t>& pids, const Options& options)
{
    if (pids.empty())
        throw Error("capture", "no pid to capture");
    Session session = attach(pids.front(), options);
    for (std::size_t i = 1; i < pids.size(); ++i) {
        check_capturable(pids[i]);
        session.impl_->seen(pids[i]);
        session.impl_->extra_targets.push_back(pids[i]);
    }
    return session;
}

pid_t Session::pid() const
{
    return impl_->target;
}
bool Session::spawned() const
{
    return impl_->spawned;
}
std::optional<ExitEvent> Session::target_exit() const
{
    return impl_->dispatcher.root_exit();
}
LostCounts Session::lost() const
{
    return impl_->lost;
}

std::uint64_t Session::lost_events() const
{
    return impl_->lost.total();
}

} // namespace pctx
