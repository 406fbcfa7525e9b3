// pctx-bpf C++ API: an RAII session over a traced process tree.
//
// A Session is created by spawn() (start a command), attach() (capture a
// running process) or watch() (a cgroup, or the machine); run() delivers
// lifecycle events and timed ticks to the handlers in order; destruction
// releases the target (killing a spawned tree, leaving a captured process
// running). Errors are pctx::Error exceptions with the same messages the C
// API passes to its errfn.
#pragma once

#include <pctx/export.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pctx {

// An error, naming the API function it came from ("create", "capture", "run").
class PCTX_API Error : public std::runtime_error {
public:
    Error(std::string function, const std::string& message);
    const std::string& function() const noexcept { return function_; }

private:
    std::string function_;
};

// argv joined by spaces, as ps shows a command line.
PCTX_API std::string join_args(const std::vector<std::string>& argv);

// Thread-level events: init_lwp, fini_lwp, lwp_create, lwp_exit and tick.
struct LwpEvent {
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0; // CLOCK_MONOTONIC
    // Counters are on, but this thread is not counted (more threads than
    // Options::max_threads at once): read_counters() has nothing for it.
    bool uncounted = false;
    // init_lwp of the start: a thread a capture found, or the started
    // command's first image (libpctx's "lwp discovery").
    bool at_start = false;
};

struct ForkEvent {
    pid_t pid = 0;       // the parent
    pid_t tid = 0;       // the parent's forking thread
    pid_t child_pid = 0; // the new process
    // The child is traced from here on; false when it could not be (the
    // tracked-process map was full: a loss, counted as tracked_full), or
    // when a scoped parent's child was born outside the scope (no loss).
    bool followed = true;
    std::uint64_t time_ns = 0;
};

struct PCTX_API ExecEvent {
    pid_t pid = 0;
    pid_t tid = 0; // the thread that called exec, by its id before the exec
    std::vector<std::string> argv;
    bool truncated = false; // argv was longer than the kernel captures
    std::uint64_t time_ns = 0;
    // argv joined by spaces, as ps shows it.
    std::string command_line() const;
};

struct PCTX_API ExitEvent {
    pid_t pid = 0;
    pid_t tid = 0;       // the exit_group() caller, or else the last thread to exit
    int wait_status = 0; // as waitpid(2) reports it: use WIFEXITED() and friends
    std::uint64_t time_ns = 0;
    // The kernel's exit record was lost (see LostEvent): the process was
    // found gone, its status is unknown (wait_status 0) and its totals are
    // those of its threads that ended before.
    bool reconciled = false;
    bool exited() const;
    int exit_code() const; // valid when exited()
    int signal() const;    // the killing signal, 0 when exited()
    bool core_dumped() const;
    // The shell's view: exit code, or 128 + signal.
    int shell_status() const;
};

// A hit of a USDT probe enabled by Options::probes, in the event stream.
struct ProbeEvent {
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0;
    std::string provider;
    std::string name;
    std::vector<std::int64_t> args; // each sign-extended where is_signed, else zero-extended
    std::vector<bool> is_signed;
};

// What the kernel could not do, by kind. The first five are events whose
// record found the ring buffer full (exit: a process's end; lwp_exit: a
// thread's); tracked_full counts forked children not followed (the
// tracked-process map was full), threads_full threads not counted (the
// counted-thread map was full).
struct LostCounts {
    std::uint64_t fork = 0;
    std::uint64_t lwp_create = 0;
    std::uint64_t exec = 0;
    std::uint64_t exit = 0;
    std::uint64_t lwp_exit = 0;
    std::uint64_t tracked_full = 0;
    std::uint64_t threads_full = 0;
    std::uint64_t probe_hits = 0; // hits of Options::probes whose buffer was full
    std::uint64_t total() const
    {
        return fork + lwp_create + exec + exit + lwp_exit + tracked_full + threads_full +
               probe_hits;
    }
};

// Reported whenever a loss count grows; never silent.
struct LostEvent {
    std::uint64_t count = 0; // newly lost since the last LostEvent, all kinds
    LostCounts by_kind;      // the same, by kind
    std::uint64_t time_ns = 0;
};

struct Handlers {
    std::function<void(const LwpEvent&)> init_lwp;
    std::function<void(const LwpEvent&)> fini_lwp;
    std::function<void(const LwpEvent&)> lwp_create;
    std::function<void(const LwpEvent&)> lwp_exit;
    // Every sample, once per live thread; a thread that ends while the
    // sample is taken has no tick then: its fini_lwp follows with its totals.
    std::function<void(const LwpEvent&)> tick;
    std::function<void(const ForkEvent&)> fork;
    std::function<void(const ExecEvent&)> exec;
    std::function<void(const ExitEvent&)> exit;
    std::function<void(const LostEvent&)> lost;
    std::function<void(const ProbeEvent&)> probe;
    // Non-fatal diagnostics from the run loop (function, message). Default: stderr.
    std::function<void(const std::string&, const std::string&)> diagnostic;
};

// One counter's value for one thread (or process), by the name it was asked by.
struct CounterValue {
    std::string name;        // as requested: "cpu-clock", "instructions:u", "r01c2"
    std::uint64_t value = 0; // scaled to the full time enabled when the PMU multiplexed
};

// A perf event pctx-bpf knows by name, and whether this machine can count it.
struct EventInfo {
    std::string name;       // perf's name: "cycles", "page-faults", ...
    std::string kind;       // "software" or "hardware"
    bool available = false; // perf_event_open accepts it here
    std::string reason;     // why not, when !available
};

struct Options {
    bool follow_forks = false; // children are tracked (and reported) too
    bool stop_at_exec = false; // release a process at its exec (cputrack's old default)
    bool verbose = false;      // libbpf's own messages, and more diagnostics
    // The kernel's ring buffer: rounded up to a power of two, a page at least.
    std::size_t ring_buffer_bytes = 4U << 20;
    std::uint32_t max_processes = 16384; // tracked processes at once
    // Counted threads at once. Each tick's batched read walks the whole map,
    // so it is sized for typical trees rather than the kernel's limits.
    std::uint32_t max_threads = 16384;
    // Per-thread counters to count from the start, as set_counters() takes
    // them: given here, the BPF program loads once, counting, and an event
    // that cannot be counted is refused before any process is started. Read
    // by spawn() and attach() only; after them, use set_counters().
    std::string counters;
    // Report pids and tids as this process's pid namespace sees them (0: our
    // own), e.g. a container's init seen from the host: events then carry the
    // container's ids. Captures only; the pids given to attach() stay ours.
    pid_t pidns = 0;
    // A scope, besides any process started or captured: every process of
    // this cgroup v2 subtree (its directory, e.g. under /sys/fs/cgroup),
    // those in it at the start and every one born or moved into it later.
    // A process moved out of it is let go: fini_lwp for each of its
    // threads, then nothing more of it. Kernel threads are never traced.
    std::string cgroup;
    // The same scope for every process this pid namespace sees (perf's -a).
    bool system_wide = false;
    // USDT probes to enable in every traced process, as "provider:name"
    // patterns with * wildcards; their hits reach handlers().probe. Each
    // process's probes are enabled at its exec (the command's first
    // included), so hits before that are not seen. Enabling needs
    // CAP_SYS_ADMIN on current kernels.
    std::vector<std::string> probes;
};

enum class RunResult {
    Finished,    // the last tracked process is gone
    Stopped,     // stop(), terminate(), or the sample count was reached
    ControlLost, // the event stream broke; see the diagnostics
};

// The perf events pctx-bpf knows, software then hardware, each tried here
// as a session opens it (on a CPU, for every task).
PCTX_API std::vector<EventInfo> list_events();

// Counters counted at once, in all.
inline constexpr std::size_t kMaxCounters = 8;

// A counter spec checked as Options::counters and set_counters() take it,
// without counting anything: perf names or raw rNNNN, each once, :u/:k/:uk
// modifiers, at most 8, each countable on this machine.
struct CounterCheck {
    std::vector<std::string> names; // as given, in order
    std::string error;              // empty when the spec can be counted here
    bool usage = true; // error: the spec itself is wrong (else: this machine cannot count it)
};
PCTX_API CounterCheck check_counters(const std::string& spec);

// pid (this process's view) as the pid namespace of process holder sees it,
// as events report it under Options::pidns; 0 when that namespace cannot.
PCTX_API pid_t pid_seen_from(pid_t pid, pid_t holder);

// Session::snapshot(): the accounting of every tracked process, a
// consistent copy. Totals are in counter_names' order (empty without
// counters).
struct ThreadSnapshot {
    pid_t tid = 0;
    // Counters are on, but this thread is not counted (see LwpEvent): its
    // ticks read nothing, so its totals stay at zero.
    bool uncounted = false;
    // Since the thread started (or its process last exec'd, or the
    // capture), as of its last tick (zero before its first).
    std::vector<std::uint64_t> totals;
    // What its last tick added: its totals then minus those at the tick
    // before it (or minus zero, for its first tick).
    std::vector<std::uint64_t> delta;
};

struct ProcessSnapshot {
    pid_t pid = 0;
    pid_t ppid = 0;             // the parent, when its fork was seen; else 0
    std::string command;        // argv joined by spaces: its last exec's, its parent's, or /proc's
    std::uint64_t first_ns = 0; // its first event (CLOCK_MONOTONIC)
    std::uint64_t last_ns = 0;  // its latest event
    // Ended: by an exit (how, in exit), or let go without one (released:
    // it left the scope, or Options::stop_at_exec released it). An ended
    // process is in the next full snapshot, then no more.
    bool ended = false;
    bool released = false;
    std::optional<ExitEvent> exit;
    // All it did under trace (a started command: from its first exec),
    // every image and thread: its threads that ended, plus the last
    // reading of those alive.
    std::vector<std::uint64_t> totals;
    std::vector<ThreadSnapshot> threads; // alive, by tid
};

struct Snapshot {
    std::uint64_t time_ns = 0; // the latest event it includes (CLOCK_MONOTONIC)
    std::vector<std::string> counter_names;
    std::vector<ProcessSnapshot> processes; // live ones by pid, then ended ones as they ended
    LostCounts lost;
};

class PCTX_API Session {
public:
    // Starts argv[0] (searched in PATH) stopped before its exec; it runs when
    // run() starts, so its exec and everything after are seen.
    static Session spawn(const std::vector<std::string>& argv, const Options& options = {});
    // The same, running program (searched in PATH) with argv as given:
    // argv[0] is only the name the program is told it has.
    static Session spawn(const std::string& program, const std::vector<std::string>& argv,
                         const Options& options = {});
    // Captures a running process; its threads get init_lwp when run() starts.
    static Session attach(pid_t pid, const Options& options = {});

    Session(Session&&) noexcept;
    Session& operator=(Session&&) noexcept;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    Handlers& handlers();
    Options& options(); // may change until the first run()

    // interval 0: events only; nsamples 0: no limit.
    RunResult run(std::chrono::milliseconds interval = std::chrono::milliseconds{0},
                  unsigned nsamples = 0);
    // From a handler: end run() after the current event. run() itself may
    // not be called from a handler (it throws Error("run", ...)).
    void stop();
    // From anywhere, a signal handler included: make run() return Stopped.
    void terminate() noexcept;
    // Kill a spawned tree / let go of a captured process; also done by the
    // destructor. From a handler, it ends the run and takes effect as run()
    // returns.
    void release() noexcept;

    pid_t pid() const;
    bool spawned() const;
    // The target's exit, once run() has seen it.
    std::optional<ExitEvent> target_exit() const;
    // What the kernel could not do so far, by kind (as reported to
    // handlers().lost), and all of it together.
    LostCounts lost() const;
    std::uint64_t lost_events() const;
    // Context switches of counted threads the kernel did not report (some
    // kernels skip a few sched_switch events). No event is lost, but each
    // leaves a slice whose counters other than time are made up at the
    // thread's observed rate, so those counts are estimates. Read after
    // each drain, as lost() is.
    std::uint64_t unseen_switches() const;

    // Per-thread counters, counted in the kernel at every context switch.
    // spec: comma-separated perf event names ("cpu-clock,page-faults,
    // instructions:u", raw "r01c2"), at most 8. Before the first run() only;
    // throws Error("set_counters", ...) naming an event that is unknown or
    // cannot be counted here, and listing what can. It reloads the BPF
    // program: Options::counters avoids that.
    void set_counters(const std::string& spec);
    // The kernel's ring buffer (rounded up to a power of two, a page at
    // least) and the tracked processes and counted threads at once; 0 keeps
    // what Options gave. Before the first run() only: it reloads the BPF
    // program, as set_counters() does (Options avoids that).
    void set_limits(std::size_t ring_buffer_bytes, std::uint32_t max_tasks);
    const std::vector<std::string>& counter_names() const;
    // Totals since the thread started (or its process last exec'd, or the
    // capture), in the order requested. Valid in tick, init_lwp, fini_lwp and
    // lwp_exit handlers for their thread; in exec handlers, the old image's
    // whole-process totals; in exit handlers, the process's totals since its
    // last exec (tid ignored for both). What a thread runs after
    // sched_process_exit (the last microseconds of its exit) is not counted.
    // Throws Error("read_counters", ...) outside such a handler.
    std::vector<CounterValue> read_counters(pid_t pid, pid_t tid) const;

    // The accounting of every tracked process and its live threads, copied
    // at once. From a handler, or from another thread while run() runs.
    // pid 0: every process (and the ended ones it holds are then dropped);
    // else that process alone (the latest of that pid, ended or not), or
    // none.
    Snapshot snapshot(pid_t pid = 0) const;

    // Captures several running processes in one session.
    static Session attach(const std::vector<pid_t>& pids, const Options& options = {});
    // Traces a scope alone (Options::cgroup or Options::system_wide), with
    // no command or pid of its own: run() goes on until stop(), terminate()
    // or its sample count, however many processes come and go. With spawn()
    // the scope lasts as long as the command.
    static Session watch(const Options& options);

    class Impl;

private:
    explicit Session(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace pctx
