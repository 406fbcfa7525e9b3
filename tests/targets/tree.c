/* tree: forks two children, each of which forks two grandchildren; one
 * grandchild also calls setsid() to leave the process group. Every process
 * writes its pid as a line to stdout, then all sleep until killed. */
#include <stdio.h>
#include <unistd.h>

static void announce(void)
{
	printf("%d\n", (int)getpid());
	fflush(stdout);
}

int main(void)
{
	announce();
	for (int i = 0; i < 2; i++) {
		if (fork() == 0) {
			announce();
			for (int j = 0; j < 2; j++) {
				if (fork() == 0) {
					if (i == 1 && j == 1)
						setsid();
					announce();
					break;
				}
			}
			break;
		}
	}
	for (;;)
		pause();
}
