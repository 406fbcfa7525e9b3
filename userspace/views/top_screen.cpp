// top's full-screen view: ncurses on the terminal, keys read between the
// session's runs (SIGIO and SIGWINCH interrupt a run, so keys answer at once).
// The watched command's standard streams are /dev/null while the screen is
// up: its output would scribble over the table.
#include "views/top_screen.hpp"
#include "views/top_signals.hpp"
#include "views/top_table.hpp"

#include <curses.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace pctx::detail {
namespace {

// Standard streams moved aside (to /dev/null) while the screen owns the
// terminal, and put back when it is gone.
class StreamsAside {
public:
    StreamsAside()
    {
        for (int fd = 0; fd < 3; ++fd)
            saved_[fd] = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            for (int fd = 0; fd < 3; ++fd)
                ::dup2(null, fd);
            ::close(null);
        }
    }
    ~StreamsAside()
    {
        for (int fd = 0; fd < 3; ++fd) {
            if (saved_[fd] >= 0) {
                ::dup2(saved_[fd], fd);
                ::close(saved_[fd]);
            }
        }
    }
    StreamsAside(const StreamsAside&) = delete;
    StreamsAside& operator=(const StreamsAside&) = delete;
    int in() const { return saved_[0]; }
    int out() const { return saved_[1]; }

private:
    int saved_[3] = {-1, -1, -1};
};

// The terminal in curses mode, input signalled by SIGIO; undone in reverse.
class Curses {
public:
    Curses(int in, int out) : in_(in)
    {
        in_file_ = ::fdopen(::fcntl(in, F_DUPFD_CLOEXEC, 3), "r");
        out_file_ = ::fdopen(::fcntl(out, F_DUPFD_CLOEXEC, 3), "w");
        if (in_file_ == nullptr || out_file_ == nullptr)
            throw pctx::Error("top", "cannot open the terminal");
        screen_ = newterm(nullptr, out_file_, in_file_);
        if (screen_ == nullptr)
            throw pctx::Error("top", "cannot use this terminal (is TERM set?); try -b");
        set_term(screen_);
        cbreak();
        noecho();
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        set_escdelay(25);
        curs_set(0);
        start_color();
        use_default_colors();
        flags_ = ::fcntl(in_, F_GETFL);
        ::fcntl(in_, F_SETOWN, ::getpid());
        ::fcntl(in_, F_SETFL, flags_ | O_ASYNC);
    }
    ~Curses()
    {
        ::fcntl(in_, F_SETFL, flags_);
        endwin();
        delscreen(screen_);
        std::fclose(in_file_);
        std::fclose(out_file_);
    }
    Curses(const Curses&) = delete;
    Curses& operator=(const Curses&) = delete;

    void resize(int out) const
    {
        winsize ws{};
        if (::ioctl(out, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
            resizeterm(ws.ws_row, ws.ws_col);
        clearok(stdscr, TRUE);
    }

private:
    int in_;
    int flags_ = 0;
    std::FILE* in_file_ = nullptr;
    std::FILE* out_file_ = nullptr;
    SCREEN* screen_ = nullptr;
};

std::string scope_text(const TopScope& s)
{
    switch (s.kind) {
    case TopScope::Kind::All:
        return "every process";
    case TopScope::Kind::Cgroup:
        return "cgroup " + s.cgroup;
    case TopScope::Kind::Command:
        return "command " + (s.command.empty() ? std::string() : s.command.front());
    case TopScope::Kind::Pids:
        break;
    }
    std::string t = s.pids.size() == 1 ? "pid" : "pids";
    for (pid_t p : s.pids)
        t += " " + std::to_string(p);
    return s.follow ? t + " and children" : t;
}

void put_line(int y, const std::string& text, attr_t attr = A_NORMAL)
{
    if (y < 0 || y >= LINES)
        return;
    attrset(attr);
    mvaddnstr(y, 0, text.c_str(), COLS);
    attrset(A_NORMAL);
}

class Screen {
public:
    Screen(const TopSettings& settings, std::unique_ptr<TopFeed> feed, const StreamsAside& io)
        : settings_(settings), feed_(std::move(feed)), io_(io)
    {
        view_.sort = 2; // the first rate column: the busiest first
    }

    int run()
    {
        Curses curses(io_.in(), io_.out());
        draw();
        while (!quit_ && !quit_requested()) {
            if (finished_) {
                pollfd p{io_.in(), POLLIN, 0};
                ::poll(&p, 1, 500);
            } else {
                const TopFeed::Step step = feed_->step();
                for (auto& d : feed_->take_diagnostics())
                    message_ = d;
                if (step == TopFeed::Step::Finished) {
                    finished_ = true;
                    message_ = "every watched process has exited: q to quit";
                }
                // Interrupted: a key, a signal or a birth; redrawn for a birth too.
                if (!paused_)
                    draw();
            }
            if (take_resize()) {
                curses.resize(io_.out());
                draw();
            }
            bool keyed = false;
            for (int ch = getch(); ch != ERR; ch = getch()) {
                // resizeterm() queues KEY_RESIZE itself: the size is already new.
                if (ch != KEY_RESIZE)
                    key(ch);
                keyed = true;
            }
            if (keyed)
                draw();
        }
        interrupt_on_signals(nullptr);
        return 0;
    }

private:
    enum class Mode { Table, Filter, Counters };

    std::size_t column_count() const
    {
        return top_columns(feed_->model().columns(), view_.threads).size();
    }

    void key(int ch)
    {
        if (mode_ == Mode::Filter)
            return filter_key(ch);
        if (mode_ == Mode::Counters)
            return counters_key(ch);
        switch (ch) {
        case 'q':
        case 'Q':
            quit_ = true;
            break;
        case ' ':
            paused_ = !paused_;
            break;
        case '<':
            view_.sort = view_.sort == 0 ? column_count() - 1 : view_.sort - 1;
            break;
        case '>':
        case 's':
            view_.sort = (view_.sort + 1) % column_count();
            break;
        case 'r':
            view_.ascending = !view_.ascending;
            break;
        case 'H':
            // The same column stays sorted on: TID comes and goes after PID.
            if (view_.sort >= 1)
                view_.sort =
                    view_.threads ? std::max<std::size_t>(1, view_.sort) - 1 : view_.sort + 1;
            view_.threads = !view_.threads;
            break;
        case '/':
            mode_ = Mode::Filter;
            typed_ = view_.filter;
            break;
        case 'c':
            open_counters();
            break;
        default:
            break;
        }
    }

    void filter_key(int ch)
    {
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            view_.filter = typed_;
            mode_ = Mode::Table;
        } else if (ch == 27) {
            mode_ = Mode::Table;
        } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
            if (!typed_.empty())
                typed_.pop_back();
        } else if (ch >= 32 && ch < 127) {
            typed_ += static_cast<char>(ch);
        }
    }

    void open_counters()
    {
        events_.clear();
        for (const auto& e : pctx::list_events())
            if (e.available)
                events_.push_back(e.name);
        const auto& names = feed_->model().counter_names();
        chosen_ = std::set<std::string>(names.begin(), names.end());
        for (const auto& n : names) // counted but not listed (raw, modifiers): keep them offered
            if (std::find(events_.begin(), events_.end(), n) == events_.end())
                events_.push_back(n);
        cursor_ = 0;
        mode_ = Mode::Counters;
    }

    void counters_key(int ch)
    {
        if (ch == KEY_UP || ch == 'k') {
            cursor_ = cursor_ == 0 ? 0 : cursor_ - 1;
        } else if (ch == KEY_DOWN || ch == 'j') {
            cursor_ = std::min(cursor_ + 1, events_.empty() ? 0 : events_.size() - 1);
        } else if (ch == ' ' && cursor_ < events_.size()) {
            if (!chosen_.erase(events_[cursor_]))
                chosen_.insert(events_[cursor_]);
        } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            mode_ = Mode::Table;
            apply_counters();
        } else if (ch == 27 || ch == 'c' || ch == 'q') {
            mode_ = Mode::Table;
        }
    }

    // A new counter set needs a new session: the BPF program counts from load.
    void apply_counters()
    {
        std::string spec;
        for (const auto& e : events_) // in the list's order
            if (chosen_.count(e) != 0)
                spec += (spec.empty() ? "" : ",") + e;
        std::string current;
        for (const auto& n : feed_->model().counter_names())
            current += (current.empty() ? "" : ",") + n;
        if (spec.empty()) {
            message_ = "choose at least one counter";
            return;
        }
        if (spec == current)
            return;
        if (feed_->scope().kind == TopScope::Kind::Command) {
            message_ = "counters cannot change while top runs the command: a new session would "
                       "kill it (start top again with -c)";
            return;
        }
        TopScope scope = feed_->scope();
        if (scope.kind == TopScope::Kind::Pids)
            scope.pids = feed_->model().live_pids();
        try {
            interrupt_on_signals(nullptr);
            auto fresh = std::make_unique<TopFeed>(scope, spec, settings_.interval);
            fresh->report_births(true);
            feed_ = std::move(fresh);
            message_ = "counters changed: the session restarted, rates start over";
        } catch (const pctx::Error& e) {
            message_ = e.what();
        }
        interrupt_on_signals(feed_.get());
        view_.sort = std::min(view_.sort, column_count() - 1);
    }

    void draw()
    {
        erase();
        const TopModel& model = feed_->model();
        const std::time_t now = std::time(nullptr);
        char clock[16];
        std::tm local{};
        ::localtime_r(&now, &local);
        std::strftime(clock, sizeof(clock), "%H:%M:%S", &local);
        char every[32];
        std::snprintf(every, sizeof(every), "every %gs",
                      static_cast<double>(settings_.interval.count()) / 1000.0);
        std::string title = std::string("pctx-bpf top - ") + clock + "  " +
                            scope_text(settings_.scope) + "  " + every;
        if (!view_.filter.empty())
            title += "  filter '" + view_.filter + "'";
        if (paused_)
            title += "  PAUSED";
        put_line(0, title, A_BOLD);

        const TopTable table = format_table(model, view_, static_cast<std::size_t>(COLS));
        std::string header = table.header;
        header.resize(static_cast<std::size_t>(std::max(COLS, 1)), ' ');
        put_line(1, header, A_REVERSE);
        if (view_.sort < table.spans.size()) {
            const auto [at, len] = table.spans[view_.sort];
            if (at < static_cast<std::size_t>(COLS))
                mvchgat(1, static_cast<int>(at), static_cast<int>(len),
                        A_REVERSE | A_BOLD | A_UNDERLINE, 0, nullptr);
        }
        const int last_row = LINES - 3;
        int y = 2;
        for (const auto& line : table.lines) {
            if (y > last_row)
                break;
            put_line(y++, line.text, line.exited ? A_DIM : line.is_new ? A_BOLD : A_NORMAL);
        }
        put_line(LINES - 2, format_totals(model.totals()), A_REVERSE);
        if (mode_ == Mode::Filter) {
            put_line(LINES - 1, "filter by command: " + typed_ + "_  (Enter: apply, Esc: cancel)");
        } else if (!message_.empty()) {
            put_line(LINES - 1, message_, A_BOLD);
        } else {
            put_line(LINES - 1, "q quit  space pause  s/</> sort  r reverse  / filter  H threads  "
                                "c counters");
        }
        if (mode_ == Mode::Counters)
            draw_counters();
        refresh();
    }

    void draw_counters()
    {
        const int width = 44;
        const int height = std::min(LINES - 2, static_cast<int>(events_.size()) + 4);
        const int x = std::max(0, COLS - width - 1);
        for (int r = 0; r < height; ++r)
            mvhline(1 + r, x, ' ', width);
        attrset(A_BOLD);
        mvaddnstr(1, x + 1, "Counters (space: toggle, Enter: apply)", width - 2);
        attrset(A_NORMAL);
        const bool restarts = feed_->scope().kind != TopScope::Kind::Command;
        mvaddnstr(2, x + 1,
                  restarts ? "A change restarts the session" : "Fixed while top runs a command",
                  width - 2);
        const int rows = height - 4;
        const int first = std::max(0, static_cast<int>(cursor_) - rows + 1);
        for (int i = 0; i < rows && first + i < static_cast<int>(events_.size()); ++i) {
            const auto idx = static_cast<std::size_t>(first) + static_cast<std::size_t>(i);
            const std::string line =
                std::string(chosen_.count(events_[idx]) != 0 ? "[x] " : "[ ] ") + events_[idx];
            attrset(idx == cursor_ ? A_REVERSE : A_NORMAL);
            mvaddnstr(3 + i, x + 1, line.c_str(), width - 2);
        }
        attrset(A_NORMAL);
    }

    const TopSettings& settings_;
    std::unique_ptr<TopFeed> feed_;
    const StreamsAside& io_;
    TopView view_;
    Mode mode_ = Mode::Table;
    bool paused_ = false;
    bool quit_ = false;
    bool finished_ = false;
    std::string message_;
    std::string typed_;
    std::vector<std::string> events_;
    std::set<std::string> chosen_;
    std::size_t cursor_ = 0;
};

} // namespace

int run_top_screen(const TopSettings& settings)
{
    if (::isatty(STDIN_FILENO) == 0 || ::isatty(STDOUT_FILENO) == 0)
        throw pctx::Error("top", "the full-screen view needs a terminal; use -b for text");
    StreamsAside io;
    // The signals first: a SIGWINCH handler set before newterm keeps ncurses' own away.
    install_top_signals(true);
    int status = 0;
    try {
        auto feed = std::make_unique<TopFeed>(settings.scope, settings.counters, settings.interval);
        feed->report_births(true);
        interrupt_on_signals(feed.get());
        Screen screen(settings, std::move(feed), io);
        status = screen.run();
    } catch (...) {
        restore_top_signals();
        throw;
    }
    restore_top_signals();
    return status;
}

} // namespace pctx::detail
