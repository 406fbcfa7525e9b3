/* libsdt_lib.so: the library sdt_probes dlopens, with a probe of its own. */
#include <sys/sdt.h>

#include <stdint.h>

void sdt_lib_fire(int k);

void sdt_lib_fire(int k)
{
	volatile int64_t neg = -(int64_t)k;

	DTRACE_PROBE2(pctxlib, libfire, k, neg);
}
