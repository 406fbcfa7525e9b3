/* no_probes: a program with no USDT probes at all (static, no libc, whose
 * libc.a carries probes of its own). Prints "ready\n", exits at EOF on
 * stdin. */
#include <sys/syscall.h>

static long sys3(long n, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

void _start(void);

void _start(void)
{
	char c;

	sys3(SYS_write, 1, (long)"ready\n", 6);
	while (sys3(SYS_read, 0, (long)&c, 1) > 0)
		;
	sys3(SYS_exit_group, 0, 0, 0);
}
