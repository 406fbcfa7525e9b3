#include "cli/output/sink.hpp"

#include <cerrno>

namespace pctx::cli {

void Sink::write(std::string_view bytes)
{
    if (error_ != 0 || bytes.empty())
        return;
    errno = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() || std::ferror(file_))
        error_ = errno != 0 ? errno : EIO;
}

void Sink::flush()
{
    if (error_ != 0)
        return;
    errno = 0;
    if (std::fflush(file_) != 0 || std::ferror(file_))
        error_ = errno != 0 ? errno : EIO;
}

} // namespace pctx::cli
