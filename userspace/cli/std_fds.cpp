#include "cli/std_fds.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace pctx::cli {

void reserve_standard_fds() noexcept
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0)
            continue;
        // open() returns the lowest free descriptor: this one. Not
        // close-on-exec: the command inherits it as it would a closed fd's
        // stand-in from a shell.
        const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null >= 0 && null != fd)
            ::close(null);
    }
}

} // namespace pctx::cli
