/* probe_loop MODE N: prints "ready", waits for a line on stdin, then runs N
 * iterations of a loop and prints the nanoseconds per iteration. MODE
 * "probe": each iteration fires the USDT probe bench:hit(i, -i); "plain":
 * the same loop without the probe site. */
#include <sys/sdt.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int probe = argc > 1 && strcmp(argv[1], "probe") == 0;
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	volatile long sink = 0;
	char line[16];
	uint64_t start, end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	start = now_ns();
	if (probe) {
		for (long i = 0; i < n; i++) {
			DTRACE_PROBE2(bench, hit, i, -i);
			sink += i;
		}
	} else {
		for (long i = 0; i < n; i++) {
			__asm__ volatile("" ::: "memory");
			sink += i;
		}
	}
	end = now_ns();
	printf("%.1f\n", (double)(end - start) / (double)n);
	return 0;
}
