/*
 * lmdb_break.c: breaks named databases of an LMDB store the way a
 * foreign writer could, for the tests of store errors: each database
 * named is dropped and its name put in the main database as a plain key.
 * A process that has the store open then gets MDB_INCOMPATIBLE from
 * LMDB on its next read of it.
 *	tests/lmdb_break DIR DB...
 * Exit status 0 when every database was broken, 1 otherwise.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <lmdb.h>

/* Breaks each database named in argv[2..] in one write transaction. */
int
main(int argc, char *argv[])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main_db, d;
	MDB_val v = { 1, "x" };
	int i, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: lmdb_break DIR DB...\n");
		return 1;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, 0)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		fprintf(stderr, "lmdb_break: %s: %s\n", argv[1],
		    mdb_strerror(rc));
		return 1;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_db)) != 0)
		goto fail;
	for (i = 2; i < argc; i++) {
		MDB_val k = { strlen(argv[i]), argv[i] };

		if ((rc = mdb_dbi_open(txn, argv[i], 0, &d)) != 0 ||
		    (rc = mdb_drop(txn, d, 1)) != 0 ||
		    (rc = mdb_put(txn, main_db, &k, &v, 0)) != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		fprintf(stderr, "lmdb_break: commit: %s\n", mdb_strerror(rc));
		mdb_env_close(env);
		return 1;
	}
	mdb_env_close(env);
	return 0;
fail:
	fprintf(stderr, "lmdb_break: %s\n", mdb_strerror(rc));
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 1;
}
