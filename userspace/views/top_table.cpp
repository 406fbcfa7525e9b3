#include "views/top_table.hpp"

#include <algorithm>
#include <cstdio>

namespace pctx::detail {
namespace {

std::string printed(const char* fmt, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof(buf), fmt, v);
    return buf;
}

// Rates of events per second: short enough for a column at any size.
std::string per_second(double v)
{
    if (v >= 1e9)
        return printed("%.1fG", v / 1e9);
    if (v >= 1e6)
        return printed("%.1fM", v / 1e6);
    if (v >= 1e5)
        return printed("%.0fk", v / 1e3);
    return printed("%.0f", v);
}

std::string rate_text(const RateColumn& c, double v)
{
    switch (c.kind) {
    case RateKind::CpuPercent:
        return printed("%.1f", v);
    case RateKind::Ipc:
        return printed("%.2f", v);
    case RateKind::PerSecond:
        break;
    }
    return per_second(v);
}

void put(std::string& line, const std::string& text, std::size_t width, bool right)
{
    std::string cell = text.size() > width ? text.substr(0, width) : text;
    const std::string pad(width - cell.size(), ' ');
    line += right ? pad + cell : cell + pad;
}

} // namespace

std::string format_lifetime(std::uint64_t ns)
{
    const double s = static_cast<double>(ns) / 1e9;
    if (s < 60)
        return printed("%.1fs", s);
    const auto secs = static_cast<unsigned long long>(s);
    char buf[32];
    if (secs < 3600)
        std::snprintf(buf, sizeof(buf), "%llu:%02llu", secs / 60, secs % 60);
    else if (secs < 86400)
        std::snprintf(buf, sizeof(buf), "%lluh%02llum", secs / 3600, secs / 60 % 60);
    else
        std::snprintf(buf, sizeof(buf), "%llud%02lluh", secs / 86400, secs / 3600 % 24);
    return buf;
}

std::string format_totals(const TopTotals& t)
{
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "processes %zu  threads %zu  execs/s %.1f  forks/s %.1f  exits/s %.1f  lost %llu",
                  t.processes, t.threads, t.execs_per_s, t.forks_per_s, t.exits_per_s,
                  static_cast<unsigned long long>(t.lost));
    return buf;
}

TopTable format_table(const TopModel& model, const TopView& view, std::size_t width)
{
    const auto& rates = model.columns();
    const std::vector<std::string> titles = top_columns(rates, view.threads);
    // Widths and alignment, column by column; COMMAND takes what is left.
    std::vector<std::size_t> widths;
    std::vector<bool> right;
    for (const std::string& t : titles) {
        if (t == "USER" || t == "STATE") {
            widths.push_back(8);
            right.push_back(false);
        } else if (t == "COMMAND") {
            widths.push_back(0);
            right.push_back(false);
        } else {
            widths.push_back(std::max<std::size_t>(t.size(), t == "PID" || t == "TID" ? 7 : 8));
            right.push_back(true);
        }
    }

    TopTable table;
    auto compose = [&](const std::vector<std::string>& cells, char mark, bool header) {
        std::string line(1, mark);
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += ' ';
            if (header)
                table.spans.emplace_back(line.size() + (right[i] && widths[i] > cells[i].size()
                                                            ? widths[i] - cells[i].size()
                                                            : 0),
                                         cells[i].size());
            if (widths[i] == 0) {
                line += cells[i];
            } else {
                put(line, cells[i], widths[i], right[i]);
            }
        }
        if (width != 0 && line.size() > width)
            line.resize(width);
        return line;
    };

    table.header = compose(titles, ' ', true);
    for (const TopRow& r : model.rows(view)) {
        std::vector<std::string> cells = {std::to_string(r.pid)};
        if (view.threads)
            cells.push_back(std::to_string(r.tid));
        cells.push_back(r.user.empty() ? "?" : r.user);
        for (std::size_t i = 0; i < rates.size(); ++i)
            cells.push_back(rate_text(rates[i], i < r.rates.size() ? r.rates[i] : 0));
        cells.push_back(format_lifetime(r.lifetime_ns));
        cells.push_back(r.state());
        cells.push_back(r.command);
        const char mark = r.exited ? 'x' : r.is_new ? '+' : ' ';
        table.lines.push_back({compose(cells, mark, false), r.is_new, r.exited});
    }
    return table;
}

} // namespace pctx::detail
