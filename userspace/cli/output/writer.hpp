// One row per event, whatever the output format. Writers own the layout only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pctx::cli {

struct Row {
    std::string event; // init_lwp, fini_lwp, exec, fork, exit, lwp_create, lwp_exit, tick, lost
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t time_ns = 0;                    // CLOCK_MONOTONIC
    std::optional<pid_t> child_pid;               // fork
    std::optional<std::vector<std::string>> args; // exec
    std::optional<int> status;                    // exit: shell status (code, or 128+signal)
    std::optional<int> signal;                    // exit: killing signal, 0 if none
    std::optional<std::uint64_t> count;           // lost
};

class Writer {
public:
    virtual ~Writer() = default;
    virtual void write(const Row& row) = 0;
    // Called once, after the last row: close what the format needs closed.
    virtual void finish() {}
};

enum class Format { Text, Json };

struct WriterConfig {
    Format format = Format::Text;
    bool show_pid = true;       // text: a pid column
    bool show_lwp_rows = false; // text: init_lwp/fini_lwp rows (-v)
    std::uint64_t start_ns = 0; // text: times are seconds since this
};

// out stays owned by the caller.
std::unique_ptr<Writer> make_writer(const WriterConfig& config, std::FILE* out);

} // namespace pctx::cli
