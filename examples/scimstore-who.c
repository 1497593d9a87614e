/*
 * scimstore-who: an example of the read API.  Prints the user with a
 * given userName or email, whether it is active, and its groups.
 *
 *	cc -o who scimstore-who.c $(pkg-config --cflags --libs scimstore)
 *	./who /var/lib/scimd bjensen@example.com
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scimstore.h>

static int
print_group(const char *id, void *ctx)
{
	struct scimstore *s = ctx;
	char *g = scimstore_group_by_id(s, id);

	printf("  group %s %s\n", id, g ? g : "(missing)");
	free(g);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct scimstore *s;
	char *u, *id;

	if (argc != 3) {
		fprintf(stderr, "usage: scimstore-who store-dir name-or-email\n");
		return 2;
	}
	if (scimstore_open(argv[1], &s) != 0) {
		fprintf(stderr, "cannot open the store %s\n", argv[1]);
		return 1;
	}
	if ((u = scimstore_user_by_username(s, argv[2])) == NULL)
		u = scimstore_user_by_email(s, argv[2]);
	if (u == NULL) {
		printf("no such user\n");
		scimstore_close(s);
		return 1;
	}
	printf("%s\n", u);
	/* The id is the value of "id": a real program would use a JSON
	 * library; the stored form puts it right after "schemas". */
	if ((id = strstr(u, "\"id\":\"")) != NULL) {
		id += 6;
		id[36] = '\0';
		scimstore_groups_of(s, id, print_group, s);
	}
	free(u);
	scimstore_close(s);
	return 0;
}
