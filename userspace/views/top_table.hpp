// `pctx-bpf top`'s table as text: the same lines for the batch mode's output
// and the full-screen view's rows, which only adds attributes.
#pragma once

#include "views/top_model.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pctx::detail {

struct TopLine {
    std::string text;
    bool is_new = false; // drawn bold: it started since the previous refresh
    bool exited = false; // drawn dim: it ended, shown this once
};

struct TopTable {
    std::string header;
    // Where each column's title is in the header (start, length), in
    // top_columns() order: for marking the sort column.
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    std::vector<TopLine> lines;
};

// The rows of the model's last refresh; width 0: commands never cut.
TopTable format_table(const TopModel& model, const TopView& view, std::size_t width);
// "processes 3  threads 5  execs/s 0.0  forks/s 2.0  exits/s 2.0  lost 0"
std::string format_totals(const TopTotals& totals);
// "0.4s", "59.9s", "12:05", "3h07m", "2d04h"
std::string format_lifetime(std::uint64_t ns);

} // namespace pctx::detail
