/*
 * fuzz_main.h: without libFuzzer, a main that feeds each file named on
 * the command line to LLVMFuzzerTestOneInput once (corpus replay for
 * `make check`).  Prints TAP: one line per file.
 */
#ifndef FUZZ_LIBFUZZER
#include <stdio.h>

int
main(int argc, char *argv[])
{
	static uint8_t buf[1 << 20];
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (f == NULL) {
			printf("not ok %d - cannot open %s\n", i, argv[i]);
			continue;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return 0;
}
#endif
