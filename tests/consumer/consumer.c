/* An outside program using the installed C API: runs argv[1..] and prints
 * the exit status pctx-bpf saw. */
#include <pctx/libpctx.h>
#include <stdio.h>

static int status = -1;

static void on_exit_event(pctx_t *pctx, pid_t pid, id_t tid, int st, void *arg)
{
	(void)pctx, (void)pid, (void)tid, (void)arg;
	status = st;
}

int main(int argc, char **argv)
{
	pctx_t *pctx;

	if (argc < 2)
		return 2;
	pctx = pctx_create(argv[1], argv + 1, NULL, 0, NULL);
	if (!pctx)
		return 1;
	pctx_set_events(pctx, PCTX_SYSC_EXIT_EVENT, on_exit_event, PCTX_NULL_EVENT);
	if (pctx_run(pctx, 0, 0, NULL) != 0)
		return 1;
	pctx_release(pctx);
	printf("exit status %d\n", status);
	return 0;
}
