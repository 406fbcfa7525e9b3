/* burn_threads MS [MS...]: one thread per argument, started together, each
 * spinning until its own CPU time (CLOCK_THREAD_CPUTIME_ID) reaches MS
 * milliseconds. Each thread measures itself as late as user code can, in a
 * thread-specific-data destructor run on its way out, so the reference leaves
 * out only the kernel's exit path; the main thread prints "TID CPU_NS" lines
 * once all are joined. Small stacks keep glibc's exit work small too. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static pthread_barrier_t start;
static pthread_key_t key;
static int tids[MAX_THREADS];
static long long own_ns[MAX_THREADS];

static long long thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void measure_last(void *slot)
{
	long i = (long)slot - 1;

	own_ns[i] = thread_ns();
}

static char **burn_ms;

static void *burn_thread(void *arg)
{
	long i = (long)arg;
	long long until = atoll(burn_ms[i]) * 1000000LL;

	tids[i] = gettid();
	pthread_setspecific(key, (void *)(i + 1));
	pthread_barrier_wait(&start);
	while (thread_ns() < until)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	pthread_attr_t attr;
	int n = argc - 1 < MAX_THREADS ? argc - 1 : MAX_THREADS;

	burn_ms = argv + 1;
	pthread_key_create(&key, measure_last);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&start, NULL, n);
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], &attr, burn_thread, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++)
		printf("%d %lld\n", tids[i], own_ns[i]);
	return 0;
}
