/* pid_reuse: makes pids and tids come back, on purpose (needs CAP_SYS_ADMIN
 * in its pid namespace, so run it in a fresh one). With clone3's set_tid it
 * forks a child with pid 500 that spins 50 ms of CPU and exits 3, reaps it,
 * at once forks another child with pid 500 that exits 5; then it creates a
 * thread, joins it, and forks a child whose pid is that thread's tid, which
 * exits 6. Prints "PID TID" (the reused pid and tid) on stdout; exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A joined thread's tid is free only once the kernel has released the
 * thread, which on older kernels comes after pthread_join() returns: while
 * the pid is taken (EEXIST), try again. */
static pid_t fork_with_pid(pid_t want)
{
	const struct timespec ms = {0, 1000000};
	struct clone_args args;
	pid_t pid = -1;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (unsigned long)&want;
	args.set_tid_size = 1;
	for (int tries = 0; tries < 5000; tries++) {
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0 || errno != EEXIST)
			break;
		nanosleep(&ms, NULL);
	}
	return pid;
}

static void spin_cpu_ms(long ms)
{
	struct timespec ts;
	long long end;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	end = ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000000000LL + ts.tv_nsec < end);
}

static int reap(pid_t pid, int expect)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == expect ? 0 : -1;
}

static void *thread_tid(void *out)
{
	*(pid_t *)out = (pid_t)syscall(SYS_gettid);
	return NULL;
}

int main(void)
{
	const pid_t reused = 500;
	pthread_t t;
	pid_t tid = 0, pid;

	pid = fork_with_pid(reused);
	if (pid == 0) {
		spin_cpu_ms(50);
		_exit(3);
	}
	if (reap(pid, 3))
		return 1;
	pid = fork_with_pid(reused);
	if (pid == 0)
		_exit(5);
	if (reap(pid, 5))
		return 1;

	if (pthread_create(&t, NULL, thread_tid, &tid) || pthread_join(t, NULL))
		return 1;
	pid = fork_with_pid(tid);
	if (pid == 0)
		_exit(6);
	if (reap(pid, 6))
		return 1;
	printf("%d %d\n", (int)reused, (int)tid);
	return 0;
}
