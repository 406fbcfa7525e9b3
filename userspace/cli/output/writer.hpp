// One row per event, whatever the output format. Writers own the layout only:
// which rows exist and what they carry is decided before (event_rows.cpp).
#pragma once

#include "cli/output/sink.hpp"
#include "pctx/pctx.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pctx::cli {

struct Row {
    std::string
        event; // init_lwp, fini_lwp, exec, fork, exit, lwp_create, lwp_exit, tick, lost, probe
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0;                    // CLOCK_MONOTONIC
    std::string command;                          // the process's command line, as far as known
    std::optional<pid_t> child_pid;               // fork
    std::optional<std::vector<std::string>> args; // exec: the new image's argv
    bool args_truncated = false;                  // exec: argv was cut by the kernel
    std::optional<int> status;                    // exit: shell status (code, or 128+signal)
    std::optional<int> signal;                    // exit: killing signal, 0 if none
    std::optional<std::uint64_t> count;           // lost
    std::optional<LostCounts> lost;               // lost: the same, by kind
    bool uncounted = false;      // thread rows: counters are on but this thread has none
    bool unfollowed = false;     // fork: the child could not be traced (a loss)
    bool reconciled = false;     // exit: found gone after its record was lost; status unknown
    std::optional<unsigned> set; // tick: the rotating -c set, from 1
    // Running totals: the thread's; the whole process's on exec rows (the old
    // image's) and exit rows (since its last exec). Empty when the row has none.
    std::vector<CounterValue> counters;
    std::vector<CounterValue> deltas; // tick: change since the thread's previous sample
    std::optional<ProbeEvent> probe;  // probe: the hit
};

// A probe hit as text: "provider:name" and its arguments, each with its sign.
std::string probe_text(const ProbeEvent& hit);

class Writer {
public:
    virtual ~Writer() = default;
    virtual void write(const Row& row) = 0;
    // Called once, after the last row: close what the format needs closed.
    virtual void finish() = 0;
};

enum class Format { Text, Json, Csv, Chrome };

// Text columns of counters, here and in the summary: 12 characters, or the
// counter's name where that is longer.
int counter_width(const std::string& name);

// The kinds of a lost row's by-kind counts, named as the JSON shows them.
std::vector<std::pair<const char*, std::uint64_t>> lost_by_kind(const LostCounts& lost);

struct WriterConfig {
    Format format = Format::Text;
    bool show_pid = true;       // text: a pid column
    bool show_lwp_rows = false; // text: init_lwp/fini_lwp rows (-v)
    bool header = true;         // text and csv: a header line (-n: none)
    std::uint64_t start_ns = 0; // text: times are seconds since this
    // text: the -t column's counter, right after the event column.
    std::optional<std::string> tick_counter;
    // Every counter a row can carry, in column order (-c sets, then -t's).
    std::vector<std::string> counters;
    // text: the -c counters, one column each (tick_counter excluded unless asked by -c too).
    std::vector<std::string> counter_columns;
};

std::unique_ptr<Writer> make_writer(const WriterConfig& config, Sink& out);

} // namespace pctx::cli
