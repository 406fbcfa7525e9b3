/* exit_from_thread MODE: how a process with threads can end.
 *   caller: two threads park, a third calls exit(7) while main waits: the
 *           process ends by that thread's exit_group().
 *   last:   main calls pthread_exit(); a thread joins it, then returns: the
 *           process ends with that last thread, status 0.
 *   abort:  as caller, but the third thread calls abort() (no core file):
 *           the process dies of SIGABRT, every thread killed. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

static pthread_t main_thread;

static void *parked(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *caller(void *arg)
{
	(void)arg;
	exit(7);
}

static void *aborter(void *arg)
{
	(void)arg;
	abort();
}

static void *survivor(void *arg)
{
	(void)arg;
	pthread_join(main_thread, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "caller") == 0 || strcmp(argv[1], "abort") == 0) {
		const struct rlimit no_core = {0, 0};

		setrlimit(RLIMIT_CORE, &no_core);
		pthread_create(&t, NULL, parked, NULL);
		pthread_create(&t, NULL, parked, NULL);
		pthread_create(&t, NULL, argv[1][0] == 'c' ? caller : aborter, NULL);
		for (;;)
			pause();
	}
	if (strcmp(argv[1], "last") == 0) {
		main_thread = pthread_self();
		pthread_create(&t, NULL, survivor, NULL);
		pthread_exit(NULL);
	}
	return 2;
}
