/* threads N: creates N threads one after another, each joined before the next
 * starts, so every thread has a distinct life; exits 0. */
#include <pthread.h>
#include <stdlib.h>

static void *body(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;

	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, body, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
	}
	return 0;
}
