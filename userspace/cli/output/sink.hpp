// Where the rows go: a FILE* that remembers its first write error, so the run
// can end cleanly (a closed pipe, a full disk) instead of writing into a void.
#pragma once

#include <cstdio>
#include <string_view>

namespace pctx::cli {

class Sink {
public:
    explicit Sink(std::FILE* file) : file_(file) {}

    // Writes bytes; after the first failure it writes nothing more.
    void write(std::string_view bytes);
    void flush();
    bool failed() const { return error_ != 0; }
    int error() const { return error_; } // errno of the first failure, 0 if none

private:
    std::FILE* file_;
    int error_ = 0;
};

} // namespace pctx::cli
