// Draws a Timeline with Cairo, as SVG or PNG: a lane per process under its
// parent, lifetime bars shaded by CPU use, exec boundaries, fork arrows, exit
// statuses and a time axis. Its own static library, so that libpctx-bpf.so
// does not depend on Cairo.
#pragma once

#include "views/timeline_model.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace pctx::detail {

enum class PictureFormat { Svg, Png };

// From the file name's extension (.svg or .png, any case); empty otherwise.
std::optional<PictureFormat> picture_format_of(const std::string& path);

// Lanes get lower and fonts smaller as lanes grow in number, so that a
// 500-process build still fits a picture a viewer can scroll.
struct TimelineLayout {
    int width = 0;
    int height = 0;
    double lane_height = 0;
    double font_size = 0;
};
TimelineLayout timeline_layout(std::size_t lanes);

// Throws pctx::Error("plot", ...) when the extension is neither .svg nor
// .png or the file cannot be written.
void draw_timeline(const Timeline& timeline, const std::string& path);

} // namespace pctx::detail
