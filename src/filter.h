/*
 * filter.h: the SCIM filter language of RFC 7644 section 3.4.2.2.
 *
 * filter_parse() turns filter text into an AST; filter_print() prints an
 * AST in one canonical form (used by golden tests and debug logs);
 * filter_match() evaluates an AST against a resource using the schema
 * table for case-exactness and types.  The parser is a pure function of
 * its input: fuzz harnesses call it directly.
 *
 * Grammar (precedence: not > and > or; operators and attribute names are
 * case-insensitive):
 *	filter    = orExpr
 *	orExpr    = andExpr *("or" andExpr)
 *	andExpr   = notExpr *("and" notExpr)
 *	notExpr   = "not" "(" filter ")" / "(" filter ")" / attrExp / valuePath
 *	valuePath = attrPath "[" valFilter "]"
 *	attrExp   = attrPath "pr" / attrPath compareOp compValue
 *	attrPath  = [URI ":"] ATTRNAME *1subAttr
 *	compValue = false / null / true / number / string   (JSON forms)
 * Bounded by LIMIT_FILTER_BYTES, LIMIT_FILTER_DEPTH and LIMIT_FILTER_TERMS.
 */
#ifndef SCIMD_FILTER_H
#define SCIMD_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "error.h"
#include "buf.h"
#include "schema.h"

enum filter_op {
	FILTER_EQ, FILTER_NE, FILTER_CO, FILTER_SW, FILTER_EW,
	FILTER_GT, FILTER_GE, FILTER_LT, FILTER_LE, FILTER_PR,
	FILTER_AND, FILTER_OR, FILTER_NOT,
	FILTER_VALUEPATH	/* attr[ left ] */
};

/* An attribute path as written: [urn:]attr[.sub]; strings owned by the node. */
struct filter_path {
	char	*urn;	/* NULL when not given */
	char	*attr;
	char	*sub;	/* NULL when not given */
};

struct filter_node {
	enum filter_op		 op;
	struct filter_path	 path;	/* comparisons, pr, valuepath */
	/* comparison value (owned); NULL for pr and logical ops */
	json_t			*value;
	/* and, or: left; not: operand; valuepath: inner filter */
	struct filter_node	*left;
	struct filter_node	*right;	/* and, or: right */
};

/* The operator's name as the grammar spells it ("eq", "and"...; "[]"
 * for a value path).  A static string. */
const char	*filter_op_name(enum filter_op op);

/*
 * Parses text[0..len).  On success returns SCIM_OK and *out (caller owns,
 * filter_free()).  On failure returns SCIM_ERR_INVALID_FILTER with a
 * detail that names the byte offset and what was expected, and *out NULL.
 * Inside a value path, attribute paths are relative (sub-attributes of the
 * outer attribute); nested value paths are refused.  A comparison right
 * after a value path (Entra: `emails[type eq "work"].value eq "x"`) is
 * read as one more "and" term inside it.
 */
enum scim_err	filter_parse(const char *text, size_t len,
		    struct filter_node **out, struct scim_error *err);

/* Frees n and everything under it; NULL is a no-op. */
void		filter_free(struct filter_node *n);

/*
 * Appends the canonical form of n to b: lower-case operators, fully
 * parenthesised logical operators, values as compact JSON, e.g.
 *	((userName eq "bjensen") and (not (emails[type eq "work"])))
 */
enum scim_err	filter_print(const struct filter_node *n, struct buf *b);

/*
 * Checks every attribute path of n against the schema of resource type t.
 * Unknown attributes are SCIM_ERR_INVALID_FILTER naming the path (RFC
 * 7644 3.4.2.2 lets the provider refuse a filter it cannot evaluate);
 * comparisons that make no sense for the attribute type (gt on a boolean,
 * co on a dateTime, a non-boolean value for a boolean) likewise.
 */
enum scim_err	filter_check(const struct filter_node *n, enum rtype t,
		    struct scim_error *err);

/*
 * Whether resource (a resource object of type t in the in-memory form of
 * schema.h, with id, meta, and for users their groups) matches n.
 * Strings compare per the attribute's caseExact (folding otherwise);
 * dateTime as instants; numbers numerically; a multi-valued attribute
 * matches when any of its values does, for every operator (ne too:
 * emails.type ne "work" is some email's type is not "work", and agrees
 * with emails[type ne "work"]; an element without the sub-attribute
 * compares as absent; an attribute without values matches no ne); a
 * complex multi-valued attribute without a sub-attribute compares each
 * element's "value".  ne on an absent single-valued attribute is true.
 * Each comparison spends the request's work budget (work.h); once it
 * is spent the answer is meaningless and the caller must check
 * work_check().
 */
bool		filter_match(const struct filter_node *n, enum rtype t,
		    const json_t *resource);

#endif
