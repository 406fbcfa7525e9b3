// `pctx-bpf doctor`: the environment checks as a table (or JSON), and an
// exit status that says whether `run` can work here.
#pragma once

#include <cstdio>
#include <string>

namespace pctx::cli {

// format: "text" or "json". 0 when everything run needs is there, else 1.
int doctor_command(const std::string& format, std::FILE* out);

} // namespace pctx::cli
