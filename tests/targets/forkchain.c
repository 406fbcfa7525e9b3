/* forkchain DEPTH: each process forks the next until DEPTH processes below
 * the first exist, then each waits for its child and exits with 0. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 1;

	for (int level = 0; level < depth; level++) {
		pid_t child = fork();

		if (child < 0)
			return 1;
		if (child > 0) {
			int status;

			waitpid(child, &status, 0);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		}
	}
	return 0;
}
