/* exit_from_thread MODE: how a process with threads can end.
 *   caller: two threads park, a third calls exit(7) while main waits: the
 *           process ends by that thread's exit_group().
 *   last:   main calls pthread_exit(); a thread joins it, then returns: the
 *           process ends with that last thread, status 0. */
#include <pthread.h>
#include <stdlib.h>
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
	if (strcmp(argv[1], "caller") == 0) {
		pthread_create(&t, NULL, parked, NULL);
		pthread_create(&t, NULL, parked, NULL);
		pthread_create(&t, NULL, caller, NULL);
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
