/* exec_from_thread MODE PROGRAM [ARGS...]
 *   main:   the main thread execs PROGRAM while 2 other threads are blocked
 *   thread: a non-leader thread execs PROGRAM (the pid stays, threads die)
 *   fail:   the main thread execs a path that does not exist, then exits 0 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char **prog_argv;

static void *blocked(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *execer(void *arg)
{
	(void)arg;
	execv(prog_argv[0], prog_argv);
	_exit(126);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "fail") == 0) {
		char *none[] = {"/nonexistent/program", NULL};

		execv(none[0], none);
		return 0;
	}
	if (argc < 3)
		return 2;
	prog_argv = argv + 2;
	for (int i = 0; i < 2; i++)
		pthread_create(&t, NULL, blocked, NULL);
	if (strcmp(argv[1], "thread") == 0) {
		pthread_create(&t, NULL, execer, NULL);
		for (;;)
			pause();
	}
	execv(prog_argv[0], prog_argv);
	return 126;
}
