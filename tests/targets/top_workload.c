/* top_workload: a workload for pctx-bpf top's tests, driven on stdin. It
 * starts a thread that spins on the CPU for ever and prints "ready PID TID"
 * (TID: the spinner's). Then, per line read: "fork" forks a child that waits,
 * and prints its pid; "exit" makes that child exit with status 7, reaps it
 * and prints "reaped"; "quit" (or EOF) exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int spinner_tid;

static void *spin(void *arg)
{
	volatile unsigned long n = 0;

	spinner_tid = gettid();
	for (;;)
		n++;
	return arg;
}

int main(void)
{
	pthread_t t;
	char line[64];
	int to_child[2] = {-1, -1};
	pid_t child = -1;

	if (pthread_create(&t, NULL, spin, NULL) != 0)
		return 1;
	while (spinner_tid == 0)
		usleep(1000);
	printf("ready %d %d\n", (int)getpid(), spinner_tid);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "fork", 4) == 0 && child < 0) {
			if (pipe(to_child) != 0)
				return 1;
			child = fork();
			if (child == 0) {
				char c;

				close(to_child[1]);
				/* Waits for "exit" (or the parent's end). */
				(void)!read(to_child[0], &c, 1);
				_exit(7);
			}
			close(to_child[0]);
			printf("%d\n", (int)child);
		} else if (strncmp(line, "exit", 4) == 0 && child > 0) {
			close(to_child[1]);
			waitpid(child, NULL, 0);
			child = -1;
			printf("reaped\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
		fflush(stdout);
	}
	return 0;
}
