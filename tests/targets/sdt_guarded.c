/* The probe of sdt_probes behind a semaphore: it fires only while a tracer
 * has raised pctxtest_guarded_semaphore. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short pctxtest_guarded_semaphore __attribute__((unused))
__attribute__((section(".probes")));

void sdt_fire_guarded(int k);

void sdt_fire_guarded(int k)
{
	if (pctxtest_guarded_semaphore)
		DTRACE_PROBE1(pctxtest, guarded, k);
}
