#include "views/timeline_cairo.hpp"

#include "pctx/pctx.hpp"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string.h> // sigabbrev_np

namespace pctx::detail {
namespace {

constexpr int kWidth = 1400;
constexpr double kLabelWidth = 300; // pid and command, indented by depth
constexpr double kStatusWidth = 80; // room after a bar that ends at the right edge
constexpr double kTitleHeight = 28;
constexpr double kAxisHeight = 22;
constexpr double kMargin = 8;
constexpr unsigned kMaxIndent = 16;  // deeper processes stop moving right
constexpr int kShades = 8;           // CPU use, from idle to one whole CPU
constexpr double kMaxHeight = 32000; // lanes only, for the biggest recordings

struct Rgb {
    double r, g, b;
};
constexpr Rgb kIdle{0.87, 0.91, 0.97};
constexpr Rgb kBusy{0.06, 0.19, 0.50};
constexpr Rgb kUnshaded{0.80, 0.84, 0.90};
// Lane outlines only: a colour nothing else uses, so an SVG's lanes can be counted.
constexpr Rgb kOutline{0.25, 0.25, 0.25};
constexpr Rgb kExec{0.0, 0.0, 0.0};
constexpr Rgb kFork{0.85, 0.42, 0.05};
constexpr Rgb kFailed{0.80, 0.05, 0.05};
constexpr Rgb kQuiet{0.45, 0.45, 0.45};

struct CairoDeleter {
    void operator()(cairo_t* cr) const noexcept { cairo_destroy(cr); }
    void operator()(cairo_surface_t* s) const noexcept { cairo_surface_destroy(s); }
};
using Context = std::unique_ptr<cairo_t, CairoDeleter>;
using Surface = std::unique_ptr<cairo_surface_t, CairoDeleter>;

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

void set_colour(cairo_t* cr, Rgb c, double alpha = 1.0)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

Rgb shade(int level)
{
    const double f = static_cast<double>(level) / kShades;
    return {kIdle.r + (kBusy.r - kIdle.r) * f, kIdle.g + (kBusy.g - kIdle.g) * f,
            kIdle.b + (kBusy.b - kIdle.b) * f};
}

// "/usr/bin/cc -c x.c" reads better on a bar as "cc -c x.c".
std::string short_name(const std::string& command)
{
    const std::size_t space = command.find(' ');
    const std::size_t slash = command.rfind('/', space);
    return slash == std::string::npos ? command : command.substr(slash + 1);
}

std::string status_text(const TimelineLane& lane)
{
    if (!lane.status)
        return "alive";
    if (lane.signal != 0) {
        const char* abbrev = ::sigabbrev_np(lane.signal);
        return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(lane.signal);
    }
    return std::to_string(*lane.status);
}

// 1, 2 or 5 times a power of ten: ticks a reader can add up.
std::uint64_t nice_step(double rough_ns)
{
    double step = 1;
    while (step * 10 <= rough_ns)
        step *= 10;
    if (step * 5 <= rough_ns)
        step *= 5;
    else if (step * 2 <= rough_ns)
        step *= 2;
    return static_cast<std::uint64_t>(step);
}

std::string time_label(std::uint64_t ns, std::uint64_t step)
{
    struct Unit {
        std::uint64_t ns;
        const char* name;
    };
    static constexpr Unit kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
    for (const Unit& u : kUnits) {
        if (step < u.ns && u.ns != 1)
            continue;
        const int decimals = step % u.ns == 0 ? 0 : (step * 10) % u.ns == 0 ? 1 : 2;
        char text[48];
        std::snprintf(text, sizeof text, "%.*f %s", decimals,
                      static_cast<double>(ns) / static_cast<double>(u.ns), u.name);
        return text;
    }
    return std::to_string(ns);
}

class Painter {
public:
    Painter(cairo_t* cr, const Timeline& t)
        : cr_(cr), t_(t), layout_(timeline_layout(t.lanes.size())),
          span_(std::max<std::uint64_t>(1, t.end_ns - t.start_ns)),
          lanes_top_(kTitleHeight + kAxisHeight)
    {
    }

    void paint()
    {
        cairo_set_source_rgb(cr_, 1, 1, 1);
        cairo_paint(cr_);
        cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
        title();
        stripes();
        axis();
        for (std::size_t i = 0; i < t_.lanes.size(); ++i)
            tree_label(i);
        for (std::size_t i = 0; i < t_.lanes.size(); ++i)
            fork_arrow(i);
        for (std::size_t i = 0; i < t_.lanes.size(); ++i)
            bar(i);
    }

private:
    double x_of(std::uint64_t ns) const
    {
        const double f =
            static_cast<double>(ns - std::min(ns, t_.start_ns)) / static_cast<double>(span_);
        return plot_left() + f * (plot_right() - plot_left());
    }
    static double plot_left() { return kLabelWidth; }
    static double plot_right() { return kWidth - kStatusWidth; }
    double lane_top(std::size_t i) const
    {
        return lanes_top_ + static_cast<double>(i) * layout_.lane_height;
    }
    double lane_middle(std::size_t i) const { return lane_top(i) + layout_.lane_height / 2; }
    double bar_height() const { return layout_.lane_height * 0.72; }
    double lanes_bottom() const { return lane_top(t_.lanes.size()); }
    double indent(unsigned depth) const
    {
        return 6 + std::min(depth, kMaxIndent) * layout_.lane_height * 0.6;
    }

    double text_width(const std::string& s) const
    {
        cairo_text_extents_t e{};
        cairo_text_extents(cr_, s.c_str(), &e);
        return e.x_advance;
    }

    // Text whose baseline centres it on y, cut at right_edge.
    void text(const std::string& s, double x, double y, double right_edge)
    {
        cairo_save(cr_);
        cairo_rectangle(cr_, x, y - layout_.lane_height / 2, std::max(0.0, right_edge - x),
                        layout_.lane_height);
        cairo_clip(cr_);
        cairo_move_to(cr_, x, y + layout_.font_size * 0.35);
        cairo_show_text(cr_, s.c_str());
        cairo_restore(cr_);
    }

    void title()
    {
        cairo_set_font_size(cr_, 13);
        set_colour(cr_, {0, 0, 0});
        const std::string what =
            std::to_string(t_.lanes.size()) +
            (t_.lanes.size() == 1 ? " process, " : " processes, ") +
            time_label(span_, nice_step(static_cast<double>(span_) / 10)) +
            (t_.has_cpu ? ".  CPU use:"
                        : ".  No task-clock or cpu-clock in the recording: bars unshaded");
        cairo_move_to(cr_, kMargin, 18);
        cairo_show_text(cr_, what.c_str());
        if (!t_.has_cpu)
            return;
        double x = kMargin + text_width(what) + 10;
        cairo_set_font_size(cr_, 11);
        cairo_move_to(cr_, x, 18);
        cairo_show_text(cr_, "idle");
        x += text_width("idle") + 4;
        for (int level = 0; level <= kShades; ++level) {
            set_colour(cr_, shade(level));
            cairo_rectangle(cr_, x + level * 14, 8, 14, 12);
            cairo_fill(cr_);
        }
        set_colour(cr_, {0, 0, 0});
        cairo_move_to(cr_, x + (kShades + 1) * 14 + 4, 18);
        cairo_show_text(cr_, "1 CPU");
    }

    void stripes()
    {
        for (std::size_t i = 1; i < t_.lanes.size(); i += 2) {
            set_colour(cr_, {0.96, 0.96, 0.96});
            cairo_rectangle(cr_, 0, lane_top(i), kWidth, layout_.lane_height);
            cairo_fill(cr_);
        }
    }

    void axis()
    {
        const std::uint64_t step = nice_step(static_cast<double>(span_) / 10);
        cairo_set_font_size(cr_, 11);
        cairo_set_line_width(cr_, 1);
        for (std::uint64_t at = 0; at <= span_; at += step) {
            const double x = std::round(x_of(t_.start_ns + at)) + 0.5;
            set_colour(cr_, {0.82, 0.82, 0.82});
            cairo_move_to(cr_, x, lanes_top_ - 4);
            cairo_line_to(cr_, x, lanes_bottom() + 4);
            cairo_stroke(cr_);
            const std::string label = time_label(at, step);
            const double w = text_width(label);
            set_colour(cr_, {0.2, 0.2, 0.2});
            cairo_move_to(cr_, x - w / 2, lanes_top_ - 8);
            cairo_show_text(cr_, label.c_str());
            cairo_move_to(cr_, x - w / 2, lanes_bottom() + 16);
            cairo_show_text(cr_, label.c_str());
        }
    }

    void tree_label(std::size_t i)
    {
        const TimelineLane& lane = t_.lanes[i];
        cairo_set_line_width(cr_, 1);
        if (lane.parent) {
            const double x = std::round(indent(t_.lanes[*lane.parent].depth) + 3) + 0.5;
            set_colour(cr_, {0.6, 0.6, 0.6});
            cairo_move_to(cr_, x, lane_middle(*lane.parent) + layout_.font_size / 2);
            cairo_line_to(cr_, x, lane_middle(i));
            cairo_line_to(cr_, indent(lane.depth), lane_middle(i));
            cairo_stroke(cr_);
        }
        cairo_set_font_size(cr_, layout_.font_size);
        set_colour(cr_, {0, 0, 0});
        const std::string& last = lane.images.back().name;
        const std::string name = last.empty() ? std::string() : " " + short_name(last);
        text(std::to_string(lane.pid) + name, indent(lane.depth) + 2, lane_middle(i),
             kLabelWidth - 6);
    }

    // Down from the parent's lane at the fork to the child's bar.
    void fork_arrow(std::size_t i)
    {
        const TimelineLane& lane = t_.lanes[i];
        if (!lane.parent)
            return;
        const double x = x_of(lane.start_ns);
        const double tip = lane_middle(i) - bar_height() / 2;
        const double head = std::min(4.0, layout_.lane_height / 4);
        // A parent of hundreds (make) would hide its lanes behind opaque lines.
        set_colour(cr_, kFork, t_.lanes.size() > 40 ? 0.3 : 0.75);
        cairo_set_line_width(cr_, 1);
        cairo_move_to(cr_, x, lane_middle(*lane.parent) + bar_height() / 2);
        cairo_line_to(cr_, x, tip - head);
        cairo_stroke(cr_);
        set_colour(cr_, kFork, 0.9);
        cairo_move_to(cr_, x - head, tip - head);
        cairo_line_to(cr_, x + head, tip - head);
        cairo_line_to(cr_, x, tip);
        cairo_close_path(cr_);
        cairo_fill(cr_);
    }

    // CPU shade per pixel column of the bar, from the lane's spans.
    std::vector<int> shades(const TimelineLane& lane, double left, std::size_t columns) const
    {
        std::vector<double> cpu(columns, 0.0);
        const auto width = static_cast<double>(columns);
        const double ns_per_px = static_cast<double>(span_) / (plot_right() - plot_left());
        for (const CpuSpan& s : lane.cpu) {
            const double a = x_of(s.start_ns) - left;
            const double b = x_of(s.end_ns) - left;
            const auto first = static_cast<std::size_t>(std::clamp(a, 0.0, width - 1.0));
            const auto last = static_cast<std::size_t>(std::clamp(b, 0.0, width - 1.0));
            for (std::size_t c = first; c <= last; ++c) {
                const auto column = static_cast<double>(c);
                const double lo = std::max(a, column);
                const double hi = std::min(b, column + 1.0);
                const double part = b - a < 1e-9 ? 1.0 : std::max(0.0, hi - lo) / (b - a);
                cpu[c] += part * static_cast<double>(s.cpu_ns);
            }
        }
        std::vector<int> level(columns);
        for (std::size_t c = 0; c < columns; ++c)
            level[c] = static_cast<int>(std::lround(std::min(1.0, cpu[c] / ns_per_px) * kShades));
        return level;
    }

    void bar(std::size_t i)
    {
        const TimelineLane& lane = t_.lanes[i];
        const double left = std::floor(x_of(lane.start_ns));
        const double right = std::max(left + 2, std::ceil(x_of(lane.end_ns)));
        const double top = lane_middle(i) - bar_height() / 2;
        const auto columns = static_cast<std::size_t>(right - left);
        const std::vector<int> level =
            t_.has_cpu ? shades(lane, left, columns) : std::vector<int>(columns, -1);

        // Runs of one shade: one rectangle each, not one per pixel.
        for (std::size_t c = 0; c < columns;) {
            std::size_t end = c + 1;
            while (end < columns && level[end] == level[c])
                ++end;
            set_colour(cr_, level[c] < 0 ? kUnshaded : shade(level[c]));
            cairo_rectangle(cr_, left + static_cast<double>(c), top, static_cast<double>(end - c),
                            bar_height());
            cairo_fill(cr_);
            c = end;
        }
        set_colour(cr_, kOutline);
        cairo_set_line_width(cr_, 1);
        cairo_rectangle(cr_, left + 0.5, top + 0.5, right - left - 1, bar_height() - 1);
        cairo_stroke(cr_);

        cairo_set_font_size(cr_, layout_.font_size);
        for (std::size_t k = 0; k < lane.images.size(); ++k) {
            const double from = std::max(left, x_of(lane.images[k].start_ns));
            const double to =
                k + 1 < lane.images.size() ? x_of(lane.images[k + 1].start_ns) : right;
            if (k > 0) {
                set_colour(cr_, kExec);
                cairo_set_line_width(cr_, 1.5);
                cairo_move_to(cr_, from, top - 1);
                cairo_line_to(cr_, from, top + bar_height() + 1);
                cairo_stroke(cr_);
            }
            image_name(i, k, level, left, from, to);
        }

        const bool failed = lane.status && (*lane.status != 0 || lane.signal != 0);
        set_colour(cr_, failed ? kFailed : kQuiet);
        text(status_text(lane), right + 4, lane_middle(i), kWidth);
    }

    // The command on its part of the bar, white where the shade is dark.
    void image_name(std::size_t i, std::size_t k, const std::vector<int>& level, double left,
                    double from, double to)
    {
        const TimelineLane& lane = t_.lanes[i];
        if (to - from < layout_.font_size * 1.5)
            return;
        const std::string& name = lane.images[k].name;
        const std::string shown =
            name.empty() ? "pid " + std::to_string(lane.pid) : short_name(name);
        const double x = from + 3;
        const double end = std::min(to - 2, x + text_width(shown));
        int sum = 0;
        int n = 0;
        for (double c = x - left; c < end - left && c < static_cast<double>(level.size()); ++c, ++n)
            sum += std::max(0, level[static_cast<std::size_t>(c)]);
        const bool dark = n > 0 && sum > n * kShades / 2;
        set_colour(cr_, dark ? Rgb{1, 1, 1} : Rgb{0.05, 0.05, 0.05});
        text(shown, x, lane_middle(i), to - 2);
    }

    cairo_t* cr_;
    const Timeline& t_;
    TimelineLayout layout_;
    std::uint64_t span_;
    double lanes_top_;
};

struct Output {
    std::FILE* file;
    int error = 0;
};

cairo_status_t write_to(void* closure, const unsigned char* data, unsigned int length)
{
    auto* out = static_cast<Output*>(closure);
    if (std::fwrite(data, 1, length, out->file) == length)
        return CAIRO_STATUS_SUCCESS;
    out->error = errno;
    return CAIRO_STATUS_WRITE_ERROR;
}

[[noreturn]] void cannot_write(const std::string& path, const std::string& why)
{
    throw Error("plot", "cannot write '" + path + "': " + why);
}

} // namespace

std::optional<PictureFormat> picture_format_of(const std::string& path)
{
    const std::size_t dot = path.rfind('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos)
        return std::nullopt;
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == "svg")
        return PictureFormat::Svg;
    if (ext == "png")
        return PictureFormat::Png;
    return std::nullopt;
}

TimelineLayout timeline_layout(std::size_t lanes)
{
    TimelineLayout l;
    if (lanes <= 40) {
        l.lane_height = 22;
        l.font_size = 12;
    } else if (lanes <= 150) {
        l.lane_height = 16;
        l.font_size = 10;
    } else if (lanes <= 1000) {
        l.lane_height = 12;
        l.font_size = 8.5;
    } else {
        // Cairo's image surfaces stop at 32767 pixels: past that, thinner lanes.
        l.lane_height = std::clamp(kMaxHeight / static_cast<double>(lanes), 1.0, 8.0);
        l.font_size = l.lane_height * 0.8;
    }
    l.width = kWidth;
    l.height = static_cast<int>(std::ceil(kTitleHeight + kAxisHeight * 2 + kMargin +
                                          static_cast<double>(lanes) * l.lane_height));
    return l;
}

void draw_timeline(const Timeline& timeline, const std::string& path)
{
    const std::optional<PictureFormat> format = picture_format_of(path);
    if (!format)
        throw Error("plot", "cannot tell the format of '" + path + "': name it .svg or .png");
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "we"));
    if (!file)
        cannot_write(path, std::strerror(errno));
    Output out{file.get()};
    const TimelineLayout layout = timeline_layout(timeline.lanes.size());

    const Surface surface(
        *format == PictureFormat::Svg
            ? cairo_svg_surface_create_for_stream(write_to, &out, layout.width, layout.height)
            : cairo_image_surface_create(CAIRO_FORMAT_RGB24, layout.width, layout.height));
    {
        const Context cr(cairo_create(surface.get()));
        Painter(cr.get(), timeline).paint();
        if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
            cannot_write(path, cairo_status_to_string(cairo_status(cr.get())));
    }
    cairo_status_t status = CAIRO_STATUS_SUCCESS;
    if (*format == PictureFormat::Png)
        status = cairo_surface_write_to_png_stream(surface.get(), write_to, &out);
    cairo_surface_finish(surface.get());
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status(surface.get());
    if (status == CAIRO_STATUS_SUCCESS && std::fflush(file.get()) != 0)
        out.error = errno;
    if (out.error != 0)
        cannot_write(path, std::strerror(out.error));
    if (status != CAIRO_STATUS_SUCCESS)
        cannot_write(path, cairo_status_to_string(status));
}

} // namespace pctx::detail
