#include "test_cli_support.hpp"

#include "support/test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace clitest {
namespace {

double now_s()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Reads what fd has now into buf; false at EOF.
bool read_some(int fd, std::string& buf)
{
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(' ');
    if (b == std::string::npos)
        return {};
    return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

std::vector<std::string> with_cli(const std::vector<std::string>& args)
{
    std::vector<std::string> argv{testsupport::cli()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

} // namespace

Tracer::Tracer(const std::vector<std::string>& args) : Tracer(with_cli(args), true) {}

Tracer::Tracer(const std::vector<std::string>& args, bool /*as_is*/)
{
    std::vector<std::string> argv = args;
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe");
    std::vector<char*> cargs;
    cargs.reserve(argv.size() + 1);
    for (auto& a : argv)
        cargs.push_back(a.data());
    cargs.push_back(nullptr);
    started_ = now_s();
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execv(cargs[0], cargs.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
}

Tracer::~Tracer()
{
    for (int fd : {in_, out_, err_})
        if (fd >= 0)
            ::close(fd);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::optional<std::string> Tracer::read_line()
{
    for (;;) {
        const auto nl = out_buf_.find('\n', out_pos_);
        if (nl != std::string::npos) {
            std::string line = out_buf_.substr(out_pos_, nl - out_pos_);
            out_pos_ = nl + 1;
            return line;
        }
        // stderr too, so that a chatty pctx-bpf never blocks on a full pipe.
        pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
        if (::poll(p, err_ >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return std::nullopt;
        }
        if (err_ >= 0 && (p[1].revents & (POLLIN | POLLHUP)) && !read_some(err_, err_buf_)) {
            ::close(err_);
            err_ = -1;
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            if (!read_some(out_, out_buf_))
                return std::nullopt;
        }
    }
}

void Tracer::send(const std::string& bytes)
{
    if (in_ < 0 || ::write(in_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("cannot write to pctx-bpf's stdin");
}

void Tracer::close_stdin()
{
    if (in_ >= 0)
        ::close(in_);
    in_ = -1;
}

void Tracer::close_stdout()
{
    if (out_ >= 0)
        ::close(out_);
    out_ = -1;
}

void Tracer::signal(int sig)
{
    ::kill(pid_, sig);
}

Result Tracer::finish()
{
    while (out_ >= 0 || err_ >= 0) {
        // A negative fd is left out by poll.
        pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (out_ >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
            !read_some(out_, out_buf_)) {
            ::close(out_);
            out_ = -1;
        }
        if (err_ >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
            !read_some(err_, err_buf_)) {
            ::close(err_);
            err_ = -1;
        }
    }
    close_stdin();
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    Result r;
    r.seconds = now_s() - started_;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = out_buf_;
    r.err = err_buf_;
    return r;
}

Result run(const std::vector<std::string>& args, bool as_is)
{
    Tracer t(as_is ? args : with_cli(args), true);
    t.close_stdin();
    return t.finish();
}

TempDir::TempDir()
{
    char tmpl[] = "/tmp/pctx-cli-test.XXXXXX";
    if (!::mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp");
    path_ = tmpl;
}

TempDir::~TempDir()
{
    const std::string cmd = "rm -rf '" + path_ + "'";
    (void)!std::system(cmd.c_str());
}

std::string slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::size_t count_of(const std::string& haystack, const std::string& needle)
{
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size()))
        ++n;
    return n;
}

std::vector<nlohmann::json> json_lines(const std::string& out)
{
    std::vector<nlohmann::json> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] == '{')
            rows.push_back(nlohmann::json::parse(line));
    return rows;
}

std::vector<std::vector<std::string>> read_csv(const std::string& text)
{
    std::vector<std::vector<std::string>> records;
    std::vector<std::string> record;
    std::string field;
    bool quoted = false;     // inside a quoted field
    bool was_quoted = false; // the field began with a quote
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"') {
            if (!field.empty())
                throw std::runtime_error("csv: a quote inside an unquoted field");
            quoted = was_quoted = true;
        } else if (c == ',') {
            record.push_back(field);
            field.clear();
            was_quoted = false;
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))
                throw std::runtime_error("csv: a CR without LF");
            if (c == '\r')
                ++i;
            record.push_back(field);
            records.push_back(record);
            record.clear();
            field.clear();
            was_quoted = false;
        } else {
            if (was_quoted)
                throw std::runtime_error("csv: text after a closing quote");
            field += c;
        }
    }
    if (quoted)
        throw std::runtime_error("csv: an unterminated quoted field");
    if (!field.empty() || !record.empty()) {
        record.push_back(field);
        records.push_back(record);
    }
    return records;
}

TextOutput read_text(const std::string& out)
{
    TextOutput t;
    std::istringstream in(out);
    std::vector<std::size_t> ends; // where each header column ends
    for (std::string line; std::getline(in, line);) {
        const std::string stripped = trim(line);
        if (ends.empty()) {
            if (stripped.rfind("time ", 0) != 0)
                continue;
            for (std::size_t pos = 0; pos < line.size();) {
                const auto b = line.find_first_not_of(' ', pos);
                if (b == std::string::npos)
                    break;
                auto e = line.find(' ', b);
                if (e == std::string::npos)
                    e = line.size();
                t.columns.push_back(line.substr(b, e - b));
                ends.push_back(e);
                pos = e;
            }
            continue;
        }
        // A row starts with its time: digits, a dot, three digits.
        const auto first_space = stripped.find(' ');
        const std::string time = stripped.substr(0, first_space);
        if (time.size() < 5 || time[time.size() - 4] != '.' ||
            time.find_first_not_of("0123456789.") != std::string::npos)
            continue;
        TextRow row;
        row.line = line;
        row.time = std::stod(time);
        std::string body = line;
        const auto hash = line.find("  # ", ends[0]);
        if (hash != std::string::npos) {
            row.note = line.substr(hash + 4);
            body = line.substr(0, hash);
        }
        std::size_t begin = ends[0];
        for (std::size_t i = 1; i < t.columns.size(); ++i) {
            const std::string cell =
                begin < body.size() ? trim(body.substr(begin, ends[i] - begin)) : std::string();
            begin = ends[i];
            const std::string& name = t.columns[i];
            if (name == "pid")
                row.pid = cell.empty() ? 0 : std::stoi(cell);
            else if (name == "lwp")
                row.tid = cell.empty() ? 0 : std::stoi(cell);
            else if (name == "event")
                row.event = cell;
            else
                row.values[name] =
                    cell.empty() ? std::nullopt : std::optional<std::uint64_t>(std::stoull(cell));
        }
        t.rows.push_back(row);
    }
    return t;
}

std::vector<Event> events_of_json(const std::string& out)
{
    std::vector<Event> evs;
    for (const auto& j : json_lines(out))
        evs.push_back({j["event"], j["pid"], j["tid"]});
    return evs;
}

std::vector<Event> events_of_csv(const std::string& out)
{
    const auto records = read_csv(out);
    std::vector<Event> evs;
    if (records.empty())
        return evs;
    const auto& header = records.front();
    auto col = [&](const std::string& name) {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name)
                return i;
        throw std::runtime_error("csv: no column " + name);
    };
    const std::size_t ev = col("event"), pid = col("pid"), tid = col("tid");
    for (std::size_t r = 1; r < records.size(); ++r) {
        if (records[r].size() != header.size())
            throw std::runtime_error("csv: record " + std::to_string(r) + " has " +
                                     std::to_string(records[r].size()) + " fields");
        evs.push_back({records[r][ev], std::stoi(records[r][pid]), std::stoi(records[r][tid])});
    }
    return evs;
}

std::vector<Event> events_of_chrome(const std::string& out)
{
    const auto doc = nlohmann::json::parse(out);
    std::vector<Event> evs;
    for (const auto& e : doc.at("traceEvents"))
        if (e.at("ph") == "i")
            evs.push_back({e.at("name"), e.at("pid"), e.at("tid")});
    return evs;
}

std::vector<Event> events_of_text(const std::string& out)
{
    std::vector<Event> evs;
    for (const auto& row : read_text(out).rows)
        if (!row.event.empty())
            evs.push_back({row.event, row.pid, row.tid});
    return evs;
}

std::map<std::string, int> count_by_kind(const std::vector<Event>& events)
{
    std::map<std::string, int> counts;
    for (const auto& e : events)
        ++counts[e.event];
    return counts;
}

} // namespace clitest
