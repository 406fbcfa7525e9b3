/* spawn_many N [PROGRAM]: N times fork, exec PROGRAM (default /bin/true) and
 * wait; exits 0 if every child exited 0. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	char *prog = argc > 2 ? argv[2] : "/bin/true";

	for (int i = 0; i < n; i++) {
		pid_t child = fork();
		int status;

		if (child < 0)
			return 1;
		if (child == 0) {
			char *args[] = {prog, NULL};

			execv(prog, args);
			_exit(127);
		}
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
	}
	return 0;
}
