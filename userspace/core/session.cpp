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

detail::Scope scope_of(const Options& options)
{
    return detail::Scope{options.cgroup, options.system_wide};
}

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

Session::Impl::Impl(Options opts, detail::Target what)
    : options(std::move(opts)), target(std::move(what))
{
    handlers.diagnostic = [](const std::string& fn, const std::string& msg) {
        std::fprintf(stderr, "pctx: %s: %s\n", fn.c_str(), msg.c_str());
    };
    dispatcher.add_observer(&accounting);
    wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    // Without it terminate() could not end a run: refuse to start instead.
    if (!wake)
        throw Error(target.is_spawned() ? "create"
                    : target.pid() != 0 ? "capture"
                                        : "watch",
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
    target.release();
    loader.reset();
    perf.reset();
}

detail::TargetContext Session::Impl::target_context()
{
    return detail::TargetContext{*loader, dispatcher, perf.get(),
                                 [this](const std::string& message) {
                                     diagnose(message);
                                 }};
}

void Session::Impl::start_target()
{
    if (!options.probes.empty())
        probes = std::make_unique<detail::SessionProbes>(
            options.probes,
            [this](const ProbeEvent& hit) {
                if (!handlers.probe)
                    return;
                ProbeEvent ev = hit;
                ev.time_ns = dispatcher.advance(hit.time_ns);
                handlers.probe(ev);
            },
            [this](const std::string& message) { diagnose(message); });
    std::uint32_t flags = 0;
    if (options.follow_forks)
        flags |= PCTX_TRACK_FOLLOW_FORK;
    if (options.stop_at_exec)
        flags |= PCTX_TRACK_STOP_AT_EXEC;
    detail::TargetContext ctx = target_context();
    try {
        target.start(ctx, flags);
    } catch (const Error&) {
        // Nothing it was created for can be traced now: let go of it all
        // (as run() returns, when called from it), leaving nothing attached.
        release();
        throw;
    }
    // A started command's probes are enabled at its first exec.
    if (probes && !target.is_spawned())
        for (pid_t pid : target.captured_pids())
            probes->attach(pid, true);
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
    auto impl = std::make_unique<Impl>(
        options, detail::Target::spawned(name, std::move(spawner), scope_of(options)));
    impl->count_with(std::move(counting));
    impl->loader = std::move(loader);
    impl->dispatcher.set_root(impl->target.root());
    return Session(std::move(impl));
}

Session Session::attach(pid_t pid, const Options& options)
{
    return attach(std::vector<pid_t>{pid}, options);
}

Session Session::watch(const Options& options)
{
    if (!options.system_wide && options.cgroup.empty())
        throw Error("watch", "nothing to watch: give a cgroup (Options::cgroup) or the whole "
                             "machine (Options::system_wide)");
    Counting counting;
    if (!options.counters.empty())
        counting = open_counters("watch", options.counters);
    auto impl = std::make_unique<Impl>(options, detail::Target::scope(scope_of(options)));
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
    for (pid_t pid : pids)
        check_capturable(pid);
    Counting counting;
    if (!options.counters.empty())
        counting = open_counters("capture", options.counters);
    // Before loading: a pid the reporting namespace cannot see is refused.
    auto impl = std::make_unique<Impl>(
        options, detail::Target::captured(pids, options.pidns, scope_of(options)));
    impl->loader = load_bpf("capture", options, counting.perf.get());
    impl->count_with(std::move(counting));
    impl->dispatcher.set_root(impl->target.root());
    return Session(std::move(impl));
}

pid_t Session::pid() const
{
    return impl_->target.pid();
}
bool Session::spawned() const
{
    return impl_->target.is_spawned();
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

std::uint64_t Session::unseen_switches() const
{
    return impl_->unseen_switches;
}

} // namespace pctx
