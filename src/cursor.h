/*
 * cursor.h: opaque, tamper-proof, expiring cursors for RFC 9865 paging.
 *
 * A cursor names the last resource of a page (its type and id) and is
 * bound to the query it was made for (a hash of the filter and the
 * types searched).  It is base64url text of those fields, an expiry
 * time, and an HMAC-SHA-256 over them keyed by the store's secret, so a
 * client cannot forge or alter one, nor use it with another query.
 */
#ifndef SCIMD_CURSOR_H
#define SCIMD_CURSOR_H

#include <stddef.h>
#include <time.h>

#include "error.h"
#include "schema.h"
#include "store.h"

#define CURSOR_TIMEOUT_SECONDS	3600
#define CURSOR_TEXT_BYTES	160

struct cursor {
	enum rtype	 type;			/* type of the last resource */
	char		 id[STORE_ID_LEN + 1];	/* id of the last resource */
};

/* A hash binding a cursor to its query (filter text and types). */
void		cursor_query_hash(const char *filter, size_t len,
		    unsigned types, unsigned char out[8]);

/* Writes the text of c into out[CURSOR_TEXT_BYTES]. */
void		cursor_encode(const struct cursor *c,
		    const unsigned char query[8], const unsigned char key[32],
		    time_t now, char out[CURSOR_TEXT_BYTES]);

/*
 * Reads text into c.  SCIM_OK; SCIM_ERR_INVALID_CURSOR when it is not
 * one of ours, was altered, or belongs to another query;
 * SCIM_ERR_EXPIRED_CURSOR when older than CURSOR_TIMEOUT_SECONDS.
 */
enum scim_err	cursor_decode(const char *text, const unsigned char query[8],
		    const unsigned char key[32], time_t now, struct cursor *c,
		    struct scim_error *err);

#endif
