/* busy_threads N MS: N threads in all (the main one included), each spinning
 * on the CPU until MS milliseconds of wall time have passed since the start;
 * exits 0 when all are done. Prints nothing. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static long long deadline_ns;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *spin(void *arg)
{
	volatile unsigned long n = 0;

	while (now_ns() < deadline_ns)
		n++;
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	long long ms = argc > 2 ? atoll(argv[2]) : 100;
	pthread_t t[64];

	if (n < 1 || n > 64)
		return 2;
	deadline_ns = now_ns() + ms * 1000000LL;
	for (int i = 1; i < n; i++)
		if (pthread_create(&t[i], NULL, spin, NULL) != 0)
			return 1;
	spin(NULL);
	for (int i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
