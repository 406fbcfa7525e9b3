// Helpers for the pctx-bpf CLI tests: running the real binary with its stdout
// and stderr captured, and reading each output format with a real parser
// (nlohmann::json for json and chrome, an RFC 4180 reader for csv, the
// header's column positions for text).
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clitest {

struct Result {
    int status = -1; // exit status, or -1 when a signal killed pctx-bpf
    std::string out;
    std::string err;
    double seconds = 0; // from start to exit
};

// A running pctx-bpf: stdin is a pipe kept open until close_stdin() (a
// started command inherits it), stdout and stderr are pipes.
class Tracer {
public:
    explicit Tracer(const std::vector<std::string>& args);
    // argv as given (a wrapper such as unshare in front of pctx-bpf), when
    // as_is is true.
    Tracer(const std::vector<std::string>& args, bool as_is);
    ~Tracer(); // kills and reaps if still running
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    pid_t pid() const { return pid_; }
    // The next line of stdout (without '\n'); nullopt at EOF. What is read
    // stays part of finish()'s out.
    std::optional<std::string> read_line();
    void send(const std::string& bytes); // to stdin, which a started command shares
    void close_stdin();
    // Stops reading pctx-bpf's output: its next write fails with EPIPE.
    void close_stdout();
    void signal(int sig);
    // Reads stdout and stderr to EOF, then reaps.
    Result finish();

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    int err_ = -1;
    std::string out_buf_; // everything read from stdout
    std::size_t out_pos_ = 0;
    std::string err_buf_;
    double started_ = 0;
};

// pctx-bpf ARGS..., stdin closed at once, to the end; with as_is, ARGS is
// the whole command line (a wrapper in front of pctx-bpf).
Result run(const std::vector<std::string>& args, bool as_is = false);

// A fresh directory, removed with what it holds.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

std::string slurp(const std::string& path);
std::size_t count_of(const std::string& haystack, const std::string& needle);

// --format json: the lines that are JSON objects (a started command's own
// output on the same stdout is skipped).
std::vector<nlohmann::json> json_lines(const std::string& out);

// RFC 4180: records of fields; quoted fields may hold commas, quotes ("")
// and line breaks; records end with CRLF (or LF).
std::vector<std::vector<std::string>> read_csv(const std::string& text);

// Text output read by the header's columns (numbers are right-aligned, so a
// column ends where its header ends).
struct TextRow {
    std::string line;
    double time = 0;
    pid_t pid = 0; // when there is a pid column
    pid_t tid = 0;
    std::string event; // empty for the command-line row after an exec
    std::map<std::string, std::optional<std::uint64_t>> values; // by header name
    std::string note;                                           // after "# "
};
struct TextOutput {
    std::vector<std::string> columns; // the header's names, in order
    std::vector<TextRow> rows;
};
// Lines that do not look like rows (the command's own output) are skipped.
TextOutput read_text(const std::string& out);

// The events of any format, reduced to what they all carry.
struct Event {
    std::string event;
    pid_t pid = 0;
    pid_t tid = 0;
};
std::vector<Event> events_of_json(const std::string& out);
std::vector<Event> events_of_csv(const std::string& out);
std::vector<Event> events_of_chrome(const std::string& out); // instant events
std::vector<Event> events_of_text(const std::string& out);   // needs -v and a pid column
std::map<std::string, int> count_by_kind(const std::vector<Event>& events);

} // namespace clitest
