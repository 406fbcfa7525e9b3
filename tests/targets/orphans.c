/* orphans N [DEPTH]: forks N children that each close stdout and sleep until
 * killed (with DEPTH > 1, each child first forks a chain of DEPTH - 1 more
 * sleepers below it), prints every sleeper's pid as a line on stdout, then
 * exits, leaving the sleepers orphaned. EOF on stdout means every sleeper
 * exists and the first process is exiting. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int depth = argc > 2 ? atoi(argv[2]) : 1;
	int report[2];

	/* Each sleeper reports its own pid before closing stdout. */
	if (pipe(report) != 0)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t child = fork();

		if (child < 0)
			return 1;
		if (child == 0) {
			close(report[0]);
			for (int level = 1; level < depth; level++)
				if (fork() != 0)
					break;
			pid_t self = getpid();

			if (write(report[1], &self, sizeof(self)) != sizeof(self))
				_exit(1);
			close(report[1]);
			close(STDOUT_FILENO);
			for (;;)
				pause();
		}
	}
	close(report[1]);
	pid_t pid;

	while (read(report[0], &pid, sizeof(pid)) == sizeof(pid))
		printf("%d\n", (int)pid);
	return 0;
}
