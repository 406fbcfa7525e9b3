// cxx_throw: C++ exceptions on command, for libstdc++'s own USDT probes
// (libstdcxx:throw, libstdcxx:catch). Prints "ready", then per line of stdin:
//   "t N": throw and catch N exceptions -> "thrown"
//   EOF:   exit 0.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

int main()
{
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	std::printf("ready\n");
	char line[64];
	int caught = 0;
	while (std::fgets(line, sizeof(line), stdin) != nullptr) {
		if (line[0] != 't')
			continue;
		const int n = std::atoi(line + 1);
		for (int i = 0; i < n; ++i) {
			try {
				throw std::runtime_error("probe me");
			} catch (const std::runtime_error &) {
				++caught;
			}
		}
		std::printf("thrown\n");
	}
	return caught >= 0 ? 0 : 1;
}
