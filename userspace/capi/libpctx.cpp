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

// Installs C++ handlers that call the C ones; a non-zero return stops the run.
void bind_handlers(pctx_t* p)
{
    pctx::Session& s = *p->session;
    pctx::Handlers& h = s.handlers();
    auto lwp = [p, &s](auto fn) -> std::function<void(const pctx::LwpEvent&)> {
        if (!fn)
            return {};
        return [p, &s, fn](const pctx::LwpEvent& ev) {
            if (fn(p, ev.pid, static_cast<id_t>(ev.tid), p->arg) != 0)
                s.stop();
        };
    };
    h.init_lwp = lwp(p->init_lwp);
    h.fini_lwp = lwp(p->fini_lwp);
    h.lwp_create = lwp(p->lwp_create);
    h.lwp_exit = lwp(p->lwp_exit);
    h.tick = lwp(p->tick);
    h.fork = {};
    if (p->fork)
        h.fork = [p](const pctx::ForkEvent& ev) {
            p->fork(p, ev.pid, ev.child_pid, static_cast<id_t>(ev.tid), p->arg);
        };
    h.exec = {};
    if (p->exec)
        h.exec = [p, &s](const pctx::ExecEvent& ev) {
            std::string args = ev.command_line();
            if (p->exec(p, ev.pid, static_cast<id_t>(ev.tid), args.data(), p->arg) != 0)
                s.stop();
        };
    h.exit = {};
    if (p->exit)
        h.exit = [p](const pctx::ExitEvent& ev) {
            p->exit(p, ev.pid, static_cast<id_t>(ev.tid), c_exit_status(ev), p->arg);
        };
    h.diagnostic = [p](const std::string& fn, const std::string& msg) {
        if (p->verbose)
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

int pctx_set_events(pctx_t* pctx, ...)
{
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
            report(pctx->errfn, "set_events", "unknown event type %u\n",
                   static_cast<unsigned>(event));
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
    pctx->tick = tick;
    try {
        bind_handlers(pctx);
        const auto result = pctx->session->run(std::chrono::milliseconds(msec), nsamples);
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

int pctx_read_counters(pctx_t* pctx, pid_t pid, id_t tid, unsigned long long* values, int nvalues)
{
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

void pctx_release(pctx_t* pctx)
{
    delete pctx; // the session's destructor releases the target
}

} // extern "C"
