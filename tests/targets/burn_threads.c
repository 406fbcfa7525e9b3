/* burn_threads MS [MS...]: one thread per argument, started together, each
 * spinning until its own CPU time (CLOCK_THREAD_CPUTIME_ID) reaches MS
 * milliseconds; each then prints "TID CPU_NS" with what it measured itself. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t start;

static long long thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *burn(void *arg)
{
	long long until = atoll(arg) * 1000000LL;
	char line[64];
	int n;

	pthread_barrier_wait(&start);
	while (thread_ns() < until)
		;
	n = snprintf(line, sizeof(line), "%d %lld\n", gettid(), thread_ns());
	if (write(1, line, n) != n)
		return NULL;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	int n = argc - 1 < 64 ? argc - 1 : 64;

	pthread_barrier_init(&start, NULL, n);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, burn, argv[i + 1]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
