// Running the CLI as user nobody holding exactly the capabilities a test
// names (passed across exec as ambient capabilities), as a container granted
// only those would run it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace testsupport {

constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// Runs argv as nobody with caps; returns its exit status (-1 when killed)
// and its stdout and stderr together.
std::pair<int, std::string> run_as_nobody(const std::vector<std::string>& argv,
                                          const std::vector<int>& caps);

// The CLI, copied where user nobody can run it: the build tree may sit
// under a directory only root can enter (mktemp -d makes them 0700).
std::string cli_for_nobody();

} // namespace testsupport
