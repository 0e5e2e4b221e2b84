/* dlopen_demo.c — loads the library given as argv[1] with dlopen (and
 * dlmopen), calls its `answer`, and prints what each step saw, so that
 * bats/shim_exec_tmpfile.bats can compare a library on /dafs with the same
 * library on a local directory.
 *
 *   dlopen_demo LIB   LIB a path (absolute, or relative with a '/')
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static void call(const char *what, void *h)
{
	int (*answer)(void);

	if (!h) {
		printf("%s: failed\n", what);
		return;
	}
	*(void **)&answer = dlsym(h, "answer");
	printf("%s: answer %d\n", what, answer ? answer() : -1);
}

int main(int argc, char **argv)
{
	void *h, *again, *noload, *other;
	char missing[4200];

	if (argc != 2) {
		fprintf(stderr, "usage: %s LIB\n", argv[0]);
		return 2;
	}
	noload = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("RTLD_NOLOAD before: %s\n", noload ? "loaded" : "not loaded");
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	call("dlopen", h);
	again = dlopen(argv[1], RTLD_LAZY);
	printf("dlopen again: %s\n", again == h ? "same handle" : "another handle");
	noload = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("RTLD_NOLOAD after: %s\n", noload == h ? "same handle" : "other");
	other = dlmopen(LM_ID_NEWLM, argv[1], RTLD_NOW);
	call("dlmopen", other);
	snprintf(missing, sizeof(missing), "%s.missing", argv[1]);
	dlerror();
	noload = dlopen(missing, RTLD_NOW);
	printf("missing: %s, dlerror %s\n", noload ? "loaded" : "failed",
	       dlerror() ? "set" : "empty");
	printf("libm by name: %s\n", dlopen("libm.so.6", RTLD_NOW) ? "loaded" : "failed");
	if (again)
		dlclose(again);
	if (other)
		dlclose(other);
	return h ? dlclose(h) != 0 : 1;
}
