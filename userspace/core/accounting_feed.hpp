// Feeds the session's accounting model (accounting/) from the dispatcher:
// each event, with the counter values it carries, before its handler.
#pragma once

#include "accounting/accounting.hpp"
#include "core/dispatcher.hpp"

#include <algorithm>
#include <utility>

namespace pctx::detail {

class AccountingFeed final : public DispatchObserver {
public:
    explicit AccountingFeed(Accounting::Namer namer) : model_(std::move(namer)) {}

    Accounting& model() { return model_; }

    void lwp(Lwp kind, const LwpEvent& ev, const CounterValues& values) override
    {
        switch (kind) {
        case Lwp::Init:
            model_.thread_started(ev);
            break;
        case Lwp::Tick:
            model_.thread_read(ev, convert(values));
            break;
        case Lwp::Fini:
            model_.thread_ended(ev, convert(values));
            break;
        case Lwp::Create:
        case Lwp::Exit:
            break; // lwp_exit's totals come again with its fini_lwp
        }
    }
    void fork(const ForkEvent& ev) override { model_.forked(ev); }
    void exec(const ExecEvent& ev, const CounterValues& /*values*/) override { model_.execed(ev); }
    void exit(const ExitEvent& ev, const CounterValues& /*values*/) override { model_.exited(ev); }
    void released(pid_t pid, std::uint64_t time_ns) override { model_.released(pid, time_ns); }

private:
    static_assert(PCTX_MAX_COUNTERS == kMaxCounters, "the kernel's counters are the API's");
    static Accounting::Values convert(const CounterValues& values)
    {
        Accounting::Values out{};
        std::copy(values.begin(), values.end(), out.begin());
        return out;
    }

    Accounting model_;
};

} // namespace pctx::detail
