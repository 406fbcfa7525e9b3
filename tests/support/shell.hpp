// A shell command run to its end: its exit status (-1 when killed) and its
// stdout and stderr together.
#pragma once

#include <string>
#include <utility>

namespace testsupport {

std::pair<int, std::string> shell(const std::string& command);

} // namespace testsupport
