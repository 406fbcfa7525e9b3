/* thread_storm N [hold]: creates N threads one after another, each joined
 * before the next starts (as tests/targets/threads), and prints "storm_ms MS
 * cpu_ms MS": the loop's own wall time, so that a tracer's start and end stay
 * out of it, and the CPU time (user and system) its threads used meanwhile,
 * which includes BPF programs run at their tracepoints and, unlike wall time,
 * not the waits for a CPU that other work on a busy machine adds. With
 * "hold", it then waits for end of file on standard input before it exits,
 * so that a tracer's programs can be read while they are still loaded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void *body(void *arg)
{
	return arg;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Joined threads' times count in RUSAGE_SELF. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	double start = now_ms(), start_cpu = cpu_ms();

	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, body, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
	}
	double wall = now_ms() - start;

	printf("storm_ms %.1f cpu_ms %.1f\n", wall, cpu_ms() - start_cpu);
	fflush(stdout);
	if (argc > 2 && strcmp(argv[2], "hold") == 0) {
		char c;

		while (read(0, &c, 1) > 0)
			;
	}
	return 0;
}
