// The C API: a thin shim over pctx::Session. No exception crosses into C:
// each entry point catches, reports through errfn, and returns the C error.
#include "pctx/libpctx.h"
#include "pctx/pctx.hpp"

#include <sys/wait.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

struct pctx_handle {
    std::optional<pctx::Session> session;
    void* arg = nullptr;
    int verbose = 0;
    pctx_errfn_t* errfn = nullptr;

    pctx_sysc_execfn_t* exec = nullptr;
    pctx_sysc_forkfn_t* fork = nullptr;
    pctx_sysc_exitfn_t* exit = nullptr;
    pctx_sysc_lwp_createfn_t* lwp_create = nullptr;
    pctx_init_lwpfn_t* init_lwp = nullptr;
    pctx_fini_lwpfn_t* fini_lwp = nullptr;
    pctx_sysc_lwp_exitfn_t* lwp_exit = nullptr;
    int (*tick)(pctx_t*, pid_t, id_t, void*) = nullptr;

    bool in_run = false;        // pctx_run() is calling handlers
    bool halted = false;        // a handler returned non-zero: call no more
    bool start_refused = false; // an init_lwp of the start returned non-zero
};

namespace {

void default_errfn(const char* fn, const char* fmt, va_list ap)
{
    std::fprintf(stderr, "libpctx: pctx_%s: ", fn);
    std::vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): the caller's
}

void report(pctx_errfn_t* errfn, const char* fn, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (errfn ? errfn : default_errfn)(fn, fmt, ap);
    va_end(ap);
}

void report_error(pctx_errfn_t* errfn, const pctx::Error& e)
{
    report(errfn, e.function().c_str(), "%s\n", e.what());
}

// libpctx's exit status: exit(2)'s value, or minus the killing signal.
int c_exit_status(const pctx::ExitEvent& ev)
{
    return ev.exited() ? ev.exit_code() : -ev.signal();
}

// Installs C++ handlers that call the C ones. libpctx's rules: a non-zero
// return from init_lwp, lwp_create, exec or tick ends the run, and nothing
// more is called after it (an init_lwp that says stop gets no lwp_create,
// a stopping exec no init_lwp); fini_lwp's and lwp_exit's returns are
// ignored; an init_lwp of the start that says stop makes pctx_run() fail.
void bind_handlers(pctx_t* p)
{
    pctx::Session& s = *p->session;
    pctx::Handlers& h = s.handlers();
    enum class Return { Stops, Ignored };
    auto lwp = [p, &s](auto fn, Return ret) -> std::function<void(const pctx::LwpEvent&)> {
        if (!fn)
            return {};
        return [p, &s, fn, ret](const pctx::LwpEvent& ev) {
            if (p->halted)
                return;
            if (fn(p, ev.pid, static_cast<id_t>(ev.tid), p->arg) != 0 && ret == Return::Stops) {
                p->halted = true;
                p->start_refused = ev.at_start;
                s.stop();
            }
        };
    };
    h.init_lwp = lwp(p->init_lwp, Return::Stops);
    h.fini_lwp = lwp(p->fini_lwp, Return::Ignored);
    h.lwp_create = lwp(p->lwp_create, Return::Stops);
    h.lwp_exit = lwp(p->lwp_exit, Return::Ignored);
    h.tick = lwp(p->tick, Return::Stops);
    h.fork = {};
    if (p->fork)
        h.fork = [p](const pctx::ForkEvent& ev) {
            if (!p->halted)
                p->fork(p, ev.pid, ev.child_pid, static_cast<id_t>(ev.tid), p->arg);
        };
    h.exec = {};
    if (p->exec)
        h.exec = [p, &s](const pctx::ExecEvent& ev) {
            if (p->halted)
                return;
            std::string args = ev.command_line();
            if (p->exec(p, ev.pid, static_cast<id_t>(ev.tid), args.data(), p->arg) != 0) {
                p->halted = true;
                s.stop();
            }
        };
    h.exit = {};
    if (p->exit)
        h.exit = [p](const pctx::ExitEvent& ev) {
            if (!p->halted)
                p->exit(p, ev.pid, static_cast<id_t>(ev.tid), c_exit_status(ev), p->arg);
        };
    // Loss and other run diagnostics are never silent, verbose or not.
    h.diagnostic = [p](const std::string& fn, const std::string& msg) {
        report(p->errfn, fn.c_str(), "%s\n", msg.c_str());
    };
    // libpctx's rules: a fork handler follows children; without an exec
    // handler a process is let go at its exec.
    s.options().follow_forks = p->fork != nullptr;
    s.options().stop_at_exec = p->exec == nullptr;
}

template <typename Start>
pctx_t* open_session(const char* fn, void* arg, int verbose, pctx_errfn_t* errfn, Start start)
{
    std::unique_ptr<pctx_t> p(new (std::nothrow) pctx_t);
    if (!p) {
        report(errfn, fn, "out of memory\n");
        return nullptr;
    }
    p->arg = arg;
    p->verbose = verbose;
    p->errfn = errfn;
    try {
        pctx::Options options;
        options.verbose = verbose != 0;
        p->session.emplace(start(options));
    } catch (const pctx::Error& e) {
        report_error(errfn, e);
        return nullptr;
    } catch (const std::exception& e) {
        report(errfn, fn, "%s\n", e.what());
        return nullptr;
    }
    return p.release();
}

} // namespace

extern "C" {

pctx_t* pctx_create(const char* filename, char* const* argv, void* arg, int verbose,
                    pctx_errfn_t* errfn)
{
    if (!filename) {
        report(errfn, "create", "no program to run\n");
        return nullptr;
    }
    return open_session("create", arg, verbose, errfn, [&](const pctx::Options& o) {
        std::vector<std::string> args;
        for (char* const* a = argv; a && *a; ++a)
            args.emplace_back(*a);
        if (args.empty())
            args.emplace_back(filename);
        // filename is the program; argv[0] is only what it is told its name is.
        return pctx::Session::spawn(filename, args, o);
    });
}

pctx_t* pctx_capture(pid_t pid, void* arg, int verbose, pctx_errfn_t* errfn)
{
    return open_session("capture", arg, verbose, errfn,
                        [&](const pctx::Options& o) { return pctx::Session::attach(pid, o); });
}

pctx_t* pctx_watch(const char* cgroup_path, void* arg, int verbose, pctx_errfn_t* errfn)
{
    return open_session("watch", arg, verbose, errfn, [&](pctx::Options o) {
        if (cgroup_path)
            o.cgroup = cgroup_path;
        else
            o.system_wide = true;
        return pctx::Session::watch(o);
    });
}

int pctx_set_events(pctx_t* pctx, ...)
{
    if (!pctx) {
        report(nullptr, "set_events", "no pctx handle (NULL)\n");
        return -1;
    }
    va_list ap;
    va_start(ap, pctx);
    int error = 0;
    for (;;) {
        // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above
        const auto event = static_cast<pctx_event_t>(va_arg(ap, int));
        if (event == PCTX_NULL_EVENT)
            break;
        switch (event) {
        case PCTX_SYSC_EXEC_EVENT:
            pctx->exec = va_arg(ap, pctx_sysc_execfn_t*);
            break;
        case PCTX_SYSC_FORK_EVENT:
            pctx->fork = va_arg(ap, pctx_sysc_forkfn_t*);
            break;
        case PCTX_SYSC_EXIT_EVENT:
            pctx->exit = va_arg(ap, pctx_sysc_exitfn_t*);
            break;
        case PCTX_SYSC_LWP_CREATE_EVENT:
            pctx->lwp_create = va_arg(ap, pctx_sysc_lwp_createfn_t*);
            break;
        case PCTX_INIT_LWP_EVENT:
            pctx->init_lwp = va_arg(ap, pctx_init_lwpfn_t*);
            break;
        case PCTX_FINI_LWP_EVENT:
            pctx->fini_lwp = va_arg(ap, pctx_fini_lwpfn_t*);
            break;
        case PCTX_SYSC_LWP_EXIT_EVENT:
            pctx->lwp_exit = va_arg(ap, pctx_sysc_lwp_exitfn_t*);
            break;
        default:
            report(pctx->errfn, "set_events", "unknown event type %d\n", static_cast<int>(event));
            error = -1;
            break;
        }
        if (error != 0)
            break;
    }
    va_end(ap);
    return error;
}

int pctx_run(pctx_t* pctx, unsigned int msec, unsigned int nsamples,
             int (*tick)(pctx_t*, pid_t, id_t, void*))
{
    if (!pctx) {
        report(nullptr, "run", "no pctx handle (NULL)\n");
        return -1;
    }
    // Rebinding the handlers now would free the one that is running.
    if (pctx->in_run) {
        report(pctx->errfn, "run",
               "called from one of its own handlers: return non-zero from the handler to end "
               "the run instead\n");
        return -1;
    }
    pctx->tick = tick;
    pctx->halted = false;
    pctx->start_refused = false;
    pctx->in_run = true;
    struct Leave {
        pctx_t* p;
        ~Leave() { p->in_run = false; }
    } leave{pctx};
    try {
        bind_handlers(pctx);
        const auto result = pctx->session->run(std::chrono::milliseconds(msec), nsamples);
        if (pctx->start_refused) {
            if (pctx->verbose)
                report(pctx->errfn, "run", "pid %d: an init_lwp handler refused the start\n",
                       static_cast<int>(pctx->session->pid()));
            return -1;
        }
        return result == pctx::RunResult::ControlLost ? -1 : 0;
    } catch (const pctx::Error& e) {
        report_error(pctx->errfn, e);
    } catch (const std::exception& e) {
        report(pctx->errfn, "run", "%s\n", e.what());
    } catch (...) {
        report(pctx->errfn, "run", "unexpected error\n");
    }
    return -1;
}

int pctx_set_counters(pctx_t* pctx, const char* spec)
{
    if (!pctx) {
        report(nullptr, "set_counters", "no pctx handle (NULL)\n");
        return -1;
    }
    try {
        pctx->session->set_counters(spec ? spec : "");
        return 0;
    } catch (const pctx::Error& e) {
        report_error(pctx->errfn, e);
    } catch (const std::exception& e) {
        report(pctx->errfn, "set_counters", "%s\n", e.what());
    }
    return -1;
}

int pctx_set_limits(pctx_t* pctx, size_t ringbuf_bytes, unsigned int max_tasks)
{
    if (!pctx) {
        report(nullptr, "set_limits", "no pctx handle (NULL)\n");
        return -1;
    }
    try {
        pctx->session->set_limits(ringbuf_bytes, max_tasks);
        return 0;
    } catch (const pctx::Error& e) {
        report_error(pctx->errfn, e);
    } catch (const std::exception& e) {
        report(pctx->errfn, "set_limits", "%s\n", e.what());
    }
    return -1;
}

int pctx_read_counters(pctx_t* pctx, pid_t pid, id_t tid, unsigned long long* values, int nvalues)
{
    if (!pctx) {
        report(nullptr, "read_counters", "no pctx handle (NULL)\n");
        return -1;
    }
    if (!values && nvalues > 0) {
        report(pctx->errfn, "read_counters", "values is NULL but nvalues is %d\n", nvalues);
        return -1;
    }
    try {
        const auto counters = pctx->session->read_counters(pid, static_cast<pid_t>(tid));
        int n = 0;
        for (; n < nvalues && static_cast<std::size_t>(n) < counters.size(); ++n)
            values[n] = counters[static_cast<std::size_t>(n)].value;
        return n;
    } catch (const pctx::Error& e) {
        if (pctx->verbose)
            report_error(pctx->errfn, e);
    } catch (const std::exception& e) {
        report(pctx->errfn, "read_counters", "%s\n", e.what());
    }
    return -1;
}

void pctx_terminate(pctx_t* pctx)
{
    if (pctx && pctx->session)
        pctx->session->terminate();
}

int pctx_lost(pctx_t* pctx, pctx_lost_t* lost)
{
    if (!pctx || !lost) {
        report(pctx ? pctx->errfn : nullptr, "lost", "%s is NULL\n", pctx ? "lost" : "pctx");
        return -1;
    }
    const pctx::LostCounts c = pctx->session->lost();
    lost->fork = c.fork;
    lost->lwp_create = c.lwp_create;
    lost->exec = c.exec;
    lost->exit = c.exit;
    lost->lwp_exit = c.lwp_exit;
    lost->tracked_full = c.tracked_full;
    lost->threads_full = c.threads_full;
    return 0;
}

void pctx_release(pctx_t* pctx)
{
    if (!pctx)
        return;
    // Freeing it now would pull the session from under the running loop.
    if (pctx->in_run) {
        report(pctx->errfn, "release",
               "called from one of pctx_run's handlers: return non-zero from the handler to end "
               "the run, then release\n");
        return;
    }
    delete pctx; // the session's destructor releases the target
}

} // extern "C"
