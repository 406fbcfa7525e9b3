/* fork_rate PER_SECOND LIFE_MS: forks children at about PER_SECOND a second,
 * forever; each child sleeps LIFE_MS milliseconds and exits 0. Reaps as it
 * goes. Prints "ready\n" once the first child is forked. Ends when killed;
 * its children die with it (PR_SET_PDEATHSIG). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long rate = argc > 1 ? atol(argv[1]) : 1000;
	long life_ms = argc > 2 ? atol(argv[2]) : 50;
	struct timespec gap = {0, 1000000000L / (rate > 0 ? rate : 1)};
	struct timespec life = {life_ms / 1000, (life_ms % 1000) * 1000000L};
	int told = 0;

	for (;;) {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			nanosleep(&life, NULL);
			_exit(0);
		}
		if (pid > 0 && !told) {
			told = 1;
			printf("ready\n");
			fflush(stdout);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&gap, NULL);
	}
}
