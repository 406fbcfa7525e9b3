/* thread_storm N: creates N threads one after another, each joined before
 * the next starts (as tests/targets/threads), and prints "storm_ms MS": the
 * loop's own wall time, so that a tracer's start and end stay out of it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	double start = now_ms();

	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, body, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
	}
	printf("storm_ms %.1f\n", now_ms() - start);
	return 0;
}
