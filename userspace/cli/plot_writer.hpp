// `pctx-bpf run --plot FILE`: rows go on to the run's own writer and into a
// timeline, drawn by the views library when the run finishes.
#pragma once

#include "cli/output/writer.hpp"

#include <memory>
#include <string>

namespace pctx::cli {

// Returns inner unchanged when path is empty. On finish(), after inner's, the
// picture is written; a failure is reported on stderr and sets failed.
std::unique_ptr<Writer> tee_plot(std::unique_ptr<Writer> inner, const std::string& path,
                                 bool& failed);

} // namespace pctx::cli
