/* sdt_probes: USDT probes (<sys/sdt.h>) of 0, 1, 3, 6 and 12 arguments of
 * mixed sizes and signs, one behind a semaphore, and a library it dlopens
 * (libsdt_lib.so, next to it) with probes of its own. Prints "ready\n", then
 * serves one command a line from stdin, answering each with a line:
 *   "f N": fire every probe of this program N times (k = 1..N) -> "fired"
 *   "s":   the semaphore of pctxtest:guarded -> "sem V"
 *   "o":   dlopen the library -> "opened";  "c": dlclose it -> "closed"
 *   "l N": fire the library's probe N times -> "lfired"
 *   EOF:   exit 0.
 * The arguments of hit k are exact functions of k (see the tests). */
#include <sys/sdt.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* sdt_guarded.c: semaphores are all or nothing per translation unit. */
extern unsigned short pctxtest_guarded_semaphore;
void sdt_fire_guarded(int k);

static void fire(int k)
{
	/* volatile: operands in memory and registers, not only constants. */
	volatile int8_t i8 = (int8_t)-k;
	volatile uint8_t u8 = (uint8_t)(200 + k);
	volatile int16_t i16 = (int16_t)(-300 * k);
	volatile uint16_t u16 = (uint16_t)(65535 - k);
	volatile int32_t i32 = -100000 * k;
	volatile uint32_t u32 = 4000000000u + (uint32_t)k;
	volatile int64_t i64 = -1234567890123LL * k;
	volatile uint64_t u64 = 18000000000000000000ULL + (uint64_t)k;

	DTRACE_PROBE(pctxtest, zero);
	DTRACE_PROBE1(pctxtest, one, i32);
	DTRACE_PROBE3(pctxtest, three, u8, i16, i64);
	DTRACE_PROBE6(pctxtest, six, i8, u16, i32, u32, i64, u64);
	DTRACE_PROBE12(pctxtest, twelve, i8, u8, i16, u16, i32, u32, i64, u64, k, -7,
		       (int64_t)k * 1000, (uint8_t)255);
	sdt_fire_guarded(k);
}

int main(int argc, char **argv)
{
	char line[64], lib[4096];
	void *handle = NULL;
	void (*lib_fire)(int) = NULL;
	const char *slash = strrchr(argv[0], '/');

	(void)argc;
	snprintf(lib, sizeof(lib), "%.*slibsdt_lib.so", slash ? (int)(slash - argv[0] + 1) : 0,
		 argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		int n = atoi(line + 1);

		switch (line[0]) {
		case 'f':
			for (int k = 1; k <= n; k++)
				fire(k);
			printf("fired\n");
			break;
		case 's':
			printf("sem %u\n", pctxtest_guarded_semaphore);
			break;
		case 'o':
			handle = dlopen(lib, RTLD_NOW);
			if (!handle) {
				printf("dlopen failed: %s\n", dlerror());
				break;
			}
			lib_fire = (void (*)(int))dlsym(handle, "sdt_lib_fire");
			printf("opened\n");
			break;
		case 'c':
			if (handle)
				dlclose(handle);
			handle = NULL;
			lib_fire = NULL;
			printf("closed\n");
			break;
		case 'l':
			for (int k = 1; k <= n && lib_fire; k++)
				lib_fire(k);
			printf("lfired\n");
			break;
		}
	}
	return 0;
}
