/* many_threads N: starts N-1 threads (N in all) that sleep until the process
 * is killed; prints "ready" once all exist. A large, quiet thread set. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 1; i < n; i++)
		if (pthread_create(&t, &attr, park, NULL) != 0)
			return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
