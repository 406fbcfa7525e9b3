/* launch_stamp: prints the wall-clock time at which it starts, in
 * microseconds since the epoch (bash's $EPOCHREALTIME without the dot), and
 * exits. Linked statically so that no dynamic loading sits between the exec
 * and the stamp: bench/startup subtracts the time it launched the command. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%lld\n", ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
	return 0;
}
