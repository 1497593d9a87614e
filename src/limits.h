/*
 * limits.h: every bound scimd places on untrusted input, in one place.
 *
 * Each value carries the reason for it.  The values that SCIM advertises
 * (bulk, filter results, payload size) are read from here by discovery.c
 * when it builds /ServiceProviderConfig, so the two cannot drift apart.
 */
#ifndef SCIMD_LIMITS_H
#define SCIMD_LIMITS_H

/* Largest request body accepted; larger bodies get 413 before being read.
 * A SCIM user is about 1 KiB; a group PATCH of 1,000 members about 60 KiB.
 * Stays below mod_fcgid's default FcgidMaxRequestLen of 128 KiB... times 8:
 * the admin raises Apache's limit to match (docs/deploy.md). */
#define LIMIT_BODY_BYTES		(1024 * 1024)

/* Largest QUERY_STRING: filters the IdPs send are under 300 bytes. */
#define LIMIT_QUERY_BYTES		8192

/* Most query parameters in one request (SCIM defines eight). */
#define LIMIT_QUERY_PARAMS		32

/* Longest request path after the mount point (an id, a schema URN). */
#define LIMIT_PATH_BYTES		1024

/* Deepest JSON nesting accepted in a body: SCIM resources nest 3 deep,
 * a Bulk request 5; deeper input is hostile. */
#define LIMIT_JSON_DEPTH		16

/* Most members (keys or array elements) in one JSON object or array,
 * bounding work per request; a group PATCH may carry this many members. */
#define LIMIT_JSON_MEMBERS		20000

/* Longest filter expression, and how deep its parentheses and
 * logical operators may nest (the parser recurses). */
#define LIMIT_FILTER_BYTES		4096
#define LIMIT_FILTER_DEPTH		32
#define LIMIT_FILTER_TERMS		128

/* Most operations in one PATCH request: Entra sends one per attribute,
 * about 30 at most; Okta one or two. */
#define LIMIT_PATCH_OPS			1000

/* Most values in one multi-valued attribute (emails, phoneNumbers...),
 * except Group.members which lives in its own index. */
#define LIMIT_MULTI_VALUES		100

/* Longest string value of any attribute (LMDB stores the record whole;
 * bigger values are abuse, not identity data). */
#define LIMIT_STRING_BYTES		16384

/* LMDB refuses keys over 511 bytes (mdb_env_get_maxkeysize of the
 * Debian 12 build).  Index keys (case-folded userName, email,
 * externalId, displayName) longer than this are refused with 400. */
#define LIMIT_INDEX_KEY_BYTES		511

/* Longest path ("URN:attribute.sub") of an attribute the schemas make
 * unique: its index keys start with it, so at least half of the 511
 * bytes stay for the value. */
#define LIMIT_UNIQUE_PATH_BYTES		255

/* Most resources returned in one page (advertised as filter.maxResults). */
#define LIMIT_PAGE_COUNT		1000

/* Resources returned when the client gives no count. */
#define LIMIT_PAGE_DEFAULT		100

/* How many resources a scanning (unindexed) filter may examine before
 * the request is refused with 400 tooMany; keeps one request from
 * holding a reader for long on a huge store. */
#define LIMIT_SCAN_RESOURCES		2000000

/* Work one request may do (work.h): one unit per comparison the filter
 * evaluator makes plus one per byte it compares, 37 per group member a
 * member filter examines (a lookup and an id), one per value a PATCH
 * compares.  Measured here: about 38 M units a second of comparing; a
 * 64-term `co` filter over a record of 100 roles of 8 KB costs 51 M
 * units (it took 2 s a record), a scan of 20,000 users with a 3-term
 * filter 0.6 M, a `members[value co "x"]` over 20,000 members 1.6 M.
 * 32 M units is about a second of it; past that the request is
 * refused with 400 tooMany, having changed nothing. */
#define LIMIT_WORK_UNITS		(32ULL * 1024 * 1024)

/* /Bulk limits, advertised in ServiceProviderConfig.bulk. */
#define LIMIT_BULK_OPERATIONS		1000
#define LIMIT_BULK_PAYLOAD		LIMIT_BODY_BYTES

/* Request header values we copy (Authorization, If-Match, Host). */
#define LIMIT_HEADER_BYTES		4096

/* Initial LMDB map size, and the ceiling growth stops at. The map
 * grows by doubling when a write finds it full. */
#define LIMIT_MAP_INITIAL		(64UL * 1024 * 1024)
#define LIMIT_MAP_MAX			(64UL * 1024 * 1024 * 1024)

/* LMDB reader slots: one per process; mod_fcgid and lighttpd rarely
 * run more than a few dozen, plus scimctl and site readers. */
#define LIMIT_MAX_READERS		1022

/* Number of attempts of one write when the map must grow or another
 * process grew it (MDB_MAP_FULL, MDB_MAP_RESIZED). */
#define LIMIT_WRITE_RETRIES		8

/* A FastCGI scimd that could not start (store missing or unreadable,
 * bad settings) tries again on a request at most once per this many
 * seconds: the admin's fix takes effect without a web server restart,
 * and a flood of requests cannot turn into a flood of opens and log
 * lines. */
#define LIMIT_OPEN_RETRY_SECONDS	1

/* Log lines for refused authentications per process per second: a
 * flood of bad tokens must not flood the log (the rest are counted and
 * reported in one line). */
#define LIMIT_AUTH_LOG_PER_SECOND	10

/* Token names: printable, short. */
#define LIMIT_TOKEN_NAME_BYTES		64

/* Longest Host (or SERVER_NAME) taken into the base URL: a DNS name is
 * at most 253 bytes; a longer one is replaced by "localhost". */
#define LIMIT_HOST_BYTES		255

/* Digits of a SERVER_PORT taken into the base URL (65535). */
#define LIMIT_PORT_DIGITS		5

/* Longest URL made for meta.location, $ref and Location: the base URL
 * (scheme, Host, port, mount point), an endpoint and a 36-byte id. */
#define LIMIT_URL_BYTES			2048

/* Largest startIndex or count in a SearchRequest body, either sign:
 * far below LONG_MAX, so the paging arithmetic cannot overflow. */
#define LIMIT_SEARCH_INTEGER		1000000000

/* Longest attribute path resolved ("urn:...:User:name.givenName"): the
 * longest schema URN is about 100 bytes, attribute names a few dozen;
 * longer paths name nothing. */
#define LIMIT_ATTR_PATH_BYTES		512

/* Longest bulkId a Bulk path may refer to ("bulkId:x" in a path). */
#define LIMIT_BULK_ID_BYTES		255

/* Schemas registered at once (the built-in four and the site's
 * extensions), and attributes in one extension (a site's schema file is
 * the admin's, but a typo must not make a huge table). */
#define LIMIT_SCHEMAS			16
#define LIMIT_EXT_ATTRS			128

/* Index lookups one query plan combines (filters or-ing equalities on
 * indexed attributes); a filter with more scans instead. */
#define LIMIT_PLAN_LOOKUPS		16

/* Records per write transaction of `scimctl import` (without --atomic):
 * bounds its memory and how long it holds the write lock at a time. */
#define LIMIT_IMPORT_BATCH		10000

/* Longest file path scimd builds (the settings file beside the binary,
 * data.mdb in the store's directory): Linux's PATH_MAX.  (<limits.h>
 * itself is shadowed by this file on the include path.) */
#define LIMIT_FILE_PATH_BYTES		4096

/* Longest line of the settings file (paths and a few words). */
#define LIMIT_CONF_LINE_BYTES		4096

/* Longest log message; longer ones are cut (a log line must stay one
 * line a syslog relay keeps whole). */
#define LIMIT_LOG_LINE_BYTES		1024
/* ---- the authorizer role (authz.c, docs/access.md) ---- */

/* Most `require` rules in scimd.conf: one per guarded area of a site;
 * every request compares its path with each (a linear scan). */
#define LIMIT_AUTHZ_RULES		256

/* Most groups named by one `require` rule: each costs one index
 * lookup per request under that rule. */
#define LIMIT_AUTHZ_RULE_GROUPS		32

/* Longest REQUEST_URI judged; longer ones are refused (403).  Apache's
 * LimitRequestLine and lighttpd's header limit are about 8 KiB. */
#define LIMIT_AUTHZ_URI_BYTES		8192

/* How many levels of group nesting count for a rule: a user in G1,
 * G1 a member of G2, passes a rule naming G2 (2 levels).  Okta and
 * Entra push flat groups; hand-made hierarchies are rarely deeper
 * than a few levels, and each level costs a read per group. */
#define LIMIT_AUTHZ_NESTING		8

/* Most groups (direct and through nesting) considered for one user;
 * beyond it a rule can only refuse (fail closed) and SCIM_GROUPS /
 * SCIM_GROUP_IDS are not sent (never a partial list). */
#define LIMIT_AUTHZ_GROUPS		256

/* Longest value of one Variable- header; a longer value is not sent
 * at all (web servers cap response header lines near 8 KiB). */
#define LIMIT_AUTHZ_VARIABLE_BYTES	4096

/* Workers of `scimd -w N` (pool.h): a pool above this is a mistake
 * (each worker is one LMDB reader slot and one connection at a time). */
#define LIMIT_POOL_WORKERS		256

/* scimctl watch (ctl_watch.c): changes read per transaction, so no read
 * transaction lasts long and memory stays small whatever the backlog;
 * how long it sleeps without a commit before reading the trail anyway
 * (in case an inotify event was lost: a missed change waits at most
 * this); the first and the longest wait before running a failed hook
 * program again (doubling in between), so a broken program costs little
 * and a fixed one is noticed within a minute. */
#define LIMIT_WATCH_BATCH		256
#define LIMIT_WATCH_FALLBACK_MS		60000
#define LIMIT_WATCH_RETRY_MIN_MS	500
#define LIMIT_WATCH_RETRY_MAX_MS	60000

#endif
