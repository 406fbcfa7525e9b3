/* parked_threads N: starts N-1 extra threads (N in all), prints "ready\n" on
 * stdout, then serves commands read from stdin, one byte each:
 *   't': create a thread that exits at once, join it, print "t\n"
 *   EOF: exit 0.
 * A process for capture tests whose every change is driven by the test. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *parked(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *brief(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t;
	char c;

	for (int i = 1; i < n; i++)
		pthread_create(&t, NULL, parked, NULL);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) == 1) {
		if (c == 't') {
			pthread_create(&t, NULL, brief, NULL);
			pthread_join(t, NULL);
			printf("t\n");
			fflush(stdout);
		}
	}
	return 0;
}
