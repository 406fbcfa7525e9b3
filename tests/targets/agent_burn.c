/* agent_burn: burns $AGENT_BURN_MS milliseconds of its own CPU time (default
 * 0) and exits 0; the agent tests' short-lived process of one comm. */
#include <stdlib.h>
#include <time.h>

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
	const char *env = getenv("AGENT_BURN_MS");
	double ms = env ? atof(env) : 0;
	volatile unsigned long spin = 0;

	while (cpu_ms() < ms)
		for (int i = 0; i < 10000; i++)
			spin++;
	return 0;
}
