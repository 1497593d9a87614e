/*
 * filter.c: parser, printer and evaluator of SCIM filters (RFC 7644
 * section 3.4.2.2).  The parser is a recursive descent over the text
 * with explicit bounds on length, nesting and the number of terms.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "jsonx.h"
#include "fold.h"
#include "work.h"
#include "limits.h"

struct parser {
	const char		*s;
	size_t			 len;
	size_t			 pos;
	int			 terms;
	struct scim_error	*err;
};

static const char *const op_names[] = {
	[FILTER_EQ] = "eq", [FILTER_NE] = "ne", [FILTER_CO] = "co",
	[FILTER_SW] = "sw", [FILTER_EW] = "ew", [FILTER_GT] = "gt",
	[FILTER_GE] = "ge", [FILTER_LT] = "lt", [FILTER_LE] = "le",
	[FILTER_PR] = "pr", [FILTER_AND] = "and", [FILTER_OR] = "or",
	[FILTER_NOT] = "not",
};

static struct filter_node *parse_or(struct parser *p, int depth, bool in_vp);

static enum scim_err
fail(struct parser *p, const char *what)
{
	return err_set(p->err, SCIM_ERR_INVALID_FILTER,
	    "Invalid filter at offset %zu: %s.", p->pos, what);
}

static void
skip_space(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

/* Whether the keyword kw (case-insensitive) is next, followed by a
 * delimiter; consumes it when so. */
static bool
keyword(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	char c;

	if (p->len - p->pos < n || strncasecmp(p->s + p->pos, kw, n) != 0)
		return false;
	if (p->pos + n < p->len) {
		c = p->s[p->pos + n];
		if (c != ' ' && c != '\t' && c != '(' && c != ')' && c != '[' &&
		    c != ']' && c != '"')
			return false;
	}
	p->pos += n;
	return true;
}

/* Frees the tree; NULL is a no-op. */
void
filter_free(struct filter_node *n)
{
	if (n == NULL)
		return;
	filter_free(n->left);
	filter_free(n->right);
	free(n->path.urn);
	free(n->path.attr);
	free(n->path.sub);
	json_decref(n->value);
	free(n);
}

/* A zeroed node of op, counted against LIMIT_FILTER_TERMS; NULL with
 * p->err set when over the limit or out of memory. */
static struct filter_node *
node_new(struct parser *p, enum filter_op op)
{
	struct filter_node *n;

	if (++p->terms > LIMIT_FILTER_TERMS) {
		err_set(p->err, SCIM_ERR_INVALID_FILTER,
		    "The filter has more than %d terms.", LIMIT_FILTER_TERMS);
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		err_set(p->err, SCIM_ERR_NOMEM, NULL);
		return NULL;
	}
	n->op = op;
	return n;
}

static bool
path_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ':' ||
	    c == '.' || c == '$';
}

/* Reads attrPath = [URI ":"] ATTRNAME ["." subAttr] into path. */
static bool
parse_path(struct parser *p, struct filter_path *path)
{
	size_t start = p->pos, end, colon = 0, dot = 0, i;
	bool has_colon = false;

	while (p->pos < p->len && path_char(p->s[p->pos]))
		p->pos++;
	end = p->pos;
	if (end == start) {
		fail(p, "expected an attribute name");
		return false;
	}
	for (i = start; i < end; i++)
		if (p->s[i] == ':') {
			colon = i;
			has_colon = true;
		}
	if (has_colon) {
		if ((path->urn = strndup(p->s + start, colon - start)) == NULL)
			goto nomem;
		start = colon + 1;
	}
	for (i = start; i < end && dot == 0; i++)
		if (p->s[i] == '.')
			dot = i;
	if (dot != 0) {
		if ((path->attr = strndup(p->s + start, dot - start)) == NULL ||
		    (path->sub = strndup(p->s + dot + 1,
		    end - dot - 1)) == NULL)
			goto nomem;
		if (*path->sub == '\0' || strchr(path->sub, '.') != NULL) {
			p->pos = dot;
			fail(p, "bad sub-attribute");
			return false;
		}
	} else if ((path->attr = strndup(p->s + start, end - start)) == NULL)
		goto nomem;
	if (*path->attr == '\0' || !isalpha((unsigned char)path->attr[0]) ||
	    (path->urn != NULL && *path->urn == '\0')) {
		p->pos = start;
		fail(p, "bad attribute name");
		return false;
	}
	return true;
nomem:
	err_set(p->err, SCIM_ERR_NOMEM, NULL);
	return false;
}

/* Reads compValue: a JSON string, number, true, false or null.  A bare
 * word is taken as a string (Entra sends unquoted values). */
static json_t *
parse_value(struct parser *p)
{
	size_t start = p->pos, i;
	json_t *v;

	if (p->pos >= p->len) {
		fail(p, "expected a value");
		return NULL;
	}
	if (p->s[p->pos] == '"') {
		for (i = p->pos + 1; i < p->len && p->s[i] != '"'; i++)
			if (p->s[i] == '\\')
				i++;
		if (i >= p->len) {
			fail(p, "unterminated string");
			return NULL;
		}
		v = json_loadb(p->s + start, i + 1 - start, JSON_DECODE_ANY,
		    NULL);
		if (v == NULL) {
			fail(p, "bad string");
			return NULL;
		}
		p->pos = i + 1;
		return v;
	}
	if (keyword(p, "true"))
		return json_true();
	if (keyword(p, "false"))
		return json_false();
	if (keyword(p, "null"))
		return json_null();
	while (p->pos < p->len && p->s[p->pos] != ' ' && p->s[p->pos] != ')' &&
	    p->s[p->pos] != ']' && p->s[p->pos] != '(' && p->s[p->pos] != '[' &&
	    p->s[p->pos] != '"' && p->s[p->pos] != '\t')
		p->pos++;
	if (p->pos == start) {
		fail(p, "expected a value");
		return NULL;
	}
	if (strchr("-0123456789", p->s[start]) != NULL &&
	    (v = json_loadb(p->s + start, p->pos - start, JSON_DECODE_ANY,
	    NULL)) != NULL && json_is_number(v))
		return v;
	if (keyword(p, "and") || keyword(p, "or")) {
		p->pos = start;
		fail(p, "expected a value");
		return NULL;
	}
	return json_stringn(p->s + start, p->pos - start);
}

/* Reads the rest of an attrExp after its path: compareOp compValue, or
 * "pr", into n. */
static bool
parse_compare(struct parser *p, struct filter_node *n)
{
	int op;

	skip_space(p);
	for (op = FILTER_EQ; op <= FILTER_PR; op++)
		if (keyword(p, op_names[op]))
			break;
	if (op > FILTER_PR) {
		fail(p, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, "
		    "le, pr)");
		return false;
	}
	n->op = op;
	if (op == FILTER_PR)
		return true;
	skip_space(p);
	return (n->value = parse_value(p)) != NULL;
}

/*
 * After a value path vp (`attr[...]`), Microsoft Entra's lookup by work
 * email writes a comparison that RFC 7644's grammar does not have:
 * `emails[type eq "work"].value eq "x"`, and in Microsoft's docs
 * `emails[type eq "work"] eq "x"` (the element's "value").  Both are read
 * as `emails[type eq "work" and value eq "x"]`, which is what they mean
 * (and what the email index answers).  Anything else after the ']' is
 * left for the caller.  false on a parse error.
 */
static bool
parse_vp_compare(struct parser *p, struct filter_node *vp)
{
	struct filter_node *cmp, *both;
	size_t start, save = p->pos;
	bool dotted = p->pos < p->len && p->s[p->pos] == '.';
	int op;

	if (!dotted) {
		skip_space(p);
		for (op = FILTER_EQ; op <= FILTER_PR; op++)
			if (keyword(p, op_names[op]))
				break;
		p->pos = save;
		if (op > FILTER_PR)
			return true;	/* "and", "or", ")", "]" or the end */
	}
	if ((cmp = node_new(p, FILTER_EQ)) == NULL)
		return false;
	if (dotted) {
		start = ++p->pos;
		while (p->pos < p->len && path_char(p->s[p->pos]) &&
		    p->s[p->pos] != '.' && p->s[p->pos] != ':')
			p->pos++;
		if (p->pos == start || !isalpha((unsigned char)p->s[start])) {
			fail(p, "bad sub-attribute");
			goto fail;
		}
		cmp->path.attr = strndup(p->s + start, p->pos - start);
	} else
		cmp->path.attr = strdup("value");
	if (cmp->path.attr == NULL) {
		err_set(p->err, SCIM_ERR_NOMEM, NULL);
		goto fail;
	}
	if (!parse_compare(p, cmp) || (both = node_new(p, FILTER_AND)) == NULL)
		goto fail;
	both->left = vp->left;
	both->right = cmp;
	vp->left = both;
	return true;
fail:
	filter_free(cmp);
	return false;
}

/* attrExp or valuePath. */
static struct filter_node *
parse_attr_exp(struct parser *p, int depth, bool in_vp)
{
	struct filter_node *n;

	if ((n = node_new(p, FILTER_EQ)) == NULL)
		return NULL;
	if (!parse_path(p, &n->path))
		goto fail;
	if (p->pos < p->len && p->s[p->pos] == '[') {
		if (in_vp) {
			fail(p, "value paths cannot nest");
			goto fail;
		}
		if (n->path.sub != NULL) {
			fail(p, "a value path names an attribute, not a "
			    "sub-attribute");
			goto fail;
		}
		p->pos++;
		n->op = FILTER_VALUEPATH;
		if ((n->left = parse_or(p, depth + 1, true)) == NULL)
			goto fail;
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != ']') {
			fail(p, "expected ']'");
			goto fail;
		}
		p->pos++;
		return parse_vp_compare(p, n) ? n : (filter_free(n), NULL);
	}
	if (!parse_compare(p, n))
		goto fail;
	return n;
fail:
	filter_free(n);
	return NULL;
}

/* A factor: ["not"] "(" filter ")", or a comparison or value path;
 * recursion bounded by LIMIT_FILTER_DEPTH. */
static struct filter_node *
parse_not(struct parser *p, int depth, bool in_vp)
{
	struct filter_node *n = NULL, *inner;
	size_t save;

	if (depth > LIMIT_FILTER_DEPTH) {
		err_set(p->err, SCIM_ERR_INVALID_FILTER,
		    "The filter nests deeper than %d.", LIMIT_FILTER_DEPTH);
		return NULL;
	}
	skip_space(p);
	save = p->pos;
	if (keyword(p, "not")) {
		skip_space(p);
		if (p->pos < p->len && p->s[p->pos] == '(') {
			if ((n = node_new(p, FILTER_NOT)) == NULL)
				return NULL;
			p->pos++;
			if ((n->left = parse_or(p, depth + 1, in_vp)) == NULL)
				goto fail;
			skip_space(p);
			if (p->pos >= p->len || p->s[p->pos] != ')') {
				fail(p, "expected ')'");
				goto fail;
			}
			p->pos++;
			return n;
		}
		p->pos = save;	/* an attribute named "not..." */
	}
	if (p->pos < p->len && p->s[p->pos] == '(') {
		p->pos++;
		if ((inner = parse_or(p, depth + 1, in_vp)) == NULL)
			return NULL;
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != ')') {
			fail(p, "expected ')'");
			filter_free(inner);
			return NULL;
		}
		p->pos++;
		return inner;
	}
	return parse_attr_exp(p, depth, in_vp);
fail:
	filter_free(n);
	return NULL;
}

/* Parses a chain of `sub` joined by the keyword of op. */
static struct filter_node *
parse_chain(struct parser *p, int depth, bool in_vp, enum filter_op op)
{
	struct filter_node *left, *n;

	left = op == FILTER_OR ? parse_chain(p, depth, in_vp, FILTER_AND) :
	    parse_not(p, depth, in_vp);
	if (left == NULL)
		return NULL;
	for (;;) {
		size_t save;

		skip_space(p);
		save = p->pos;
		if (!keyword(p, op_names[op]))
			return left;
		if (save == 0 || (p->s[save - 1] != ' ' &&
		    p->s[save - 1] != ')' &&
		    p->s[save - 1] != ']' && p->s[save - 1] != '\t')) {
			p->pos = save;
			return left;
		}
		if ((n = node_new(p, op)) == NULL) {
			filter_free(left);
			return NULL;
		}
		n->left = left;
		n->right = op == FILTER_OR ?
		    parse_chain(p, depth, in_vp, FILTER_AND) :
		    parse_not(p, depth, in_vp);
		if (n->right == NULL) {
			filter_free(n);
			return NULL;
		}
		left = n;
	}
}

static struct filter_node *
parse_or(struct parser *p, int depth, bool in_vp)
{
	if (depth > LIMIT_FILTER_DEPTH) {
		err_set(p->err, SCIM_ERR_INVALID_FILTER,
		    "The filter nests deeper than %d.", LIMIT_FILTER_DEPTH);
		return NULL;
	}
	return parse_chain(p, depth, in_vp, FILTER_OR);
}

/* Parses a whole filter: any byte left after the expression, a NUL or
 * an over-long text is SCIM_ERR_INVALID_FILTER with the offset. */
enum scim_err
filter_parse(const char *text, size_t len, struct filter_node **out,
    struct scim_error *err)
{
	struct parser p = { text, len, 0, 0, err };
	struct filter_node *n;

	*out = NULL;
	if (len > LIMIT_FILTER_BYTES)
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "The filter is longer than %d bytes.", LIMIT_FILTER_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "The filter contains a NUL byte.");
	err_clear(err);
	if ((n = parse_or(&p, 0, false)) == NULL)
		return err != NULL && err->code != SCIM_OK ? err->code :
		    SCIM_ERR_INVALID_FILTER;
	skip_space(&p);
	if (p.pos != len) {
		filter_free(n);
		return fail(&p, "unexpected text after the filter");
	}
	*out = n;
	return SCIM_OK;
}

/* ---- printing ---------------------------------------------------------- */

static enum scim_err
print_path(const struct filter_path *path, struct buf *b)
{
	enum scim_err e = SCIM_OK;

	if (path->urn != NULL)
		e = buf_printf(b, "%s:", path->urn);
	if (e == SCIM_OK)
		e = buf_puts(b, path->attr);
	if (e == SCIM_OK && path->sub != NULL)
		e = buf_printf(b, ".%s", path->sub);
	return e;
}

static enum scim_err
print_wrapped(const struct filter_node *n, struct buf *b)
{
	enum scim_err e;

	if (n->op == FILTER_AND || n->op == FILTER_OR)
		return filter_print(n, b);
	if ((e = buf_putc(b, '(')) != SCIM_OK ||
	    (e = filter_print(n, b)) != SCIM_OK)
		return e;
	return buf_putc(b, ')');
}

/* The canonical text of the tree (the golden tests compare it). */
enum scim_err
filter_print(const struct filter_node *n, struct buf *b)
{
	enum scim_err e;
	char *v;

	switch (n->op) {
	case FILTER_AND:
	case FILTER_OR:
		if ((e = buf_putc(b, '(')) != SCIM_OK ||
		    (e = print_wrapped(n->left, b)) != SCIM_OK ||
		    (e = buf_printf(b, " %s ", op_names[n->op])) != SCIM_OK ||
		    (e = print_wrapped(n->right, b)) != SCIM_OK)
			return e;
		return buf_putc(b, ')');
	case FILTER_NOT:
		if ((e = buf_puts(b, "not (")) != SCIM_OK ||
		    (e = filter_print(n->left, b)) != SCIM_OK)
			return e;
		return buf_putc(b, ')');
	case FILTER_VALUEPATH:
		if ((e = print_path(&n->path, b)) != SCIM_OK ||
		    (e = buf_putc(b, '[')) != SCIM_OK ||
		    (e = filter_print(n->left, b)) != SCIM_OK)
			return e;
		return buf_putc(b, ']');
	case FILTER_PR:
		if ((e = print_path(&n->path, b)) != SCIM_OK)
			return e;
		return buf_puts(b, " pr");
	default:
		if ((e = print_path(&n->path, b)) != SCIM_OK ||
		    (e = buf_printf(b, " %s ", op_names[n->op])) != SCIM_OK)
			return e;
		if ((v = jsonx_dumps(n->value)) == NULL)
			return SCIM_ERR_NOMEM;
		e = buf_puts(b, v);
		free(v);
		return e;
	}
}

/* ---- checking ------------------------------------------------------------ */

/* Resolves the path of n for type t into ref. */
static enum scim_err
resolve(enum rtype t, const struct filter_path *path, struct attr_ref *ref)
{
	char text[LIMIT_ATTR_PATH_BYTES];
	int n;

	n = snprintf(text, sizeof(text), "%s%s%s%s%s",
	    path->urn ? path->urn : "", path->urn ? ":" : "", path->attr,
	    path->sub ? "." : "", path->sub ? path->sub : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return SCIM_ERR_NOT_FOUND;
	return schema_resolve(t, text, (size_t)n, ref);
}

/* The attribute definition values of a comparison are typed by. */
static const struct schema_attr *
value_attr(const struct attr_ref *ref)
{
	if (ref->sub != NULL)
		return ref->sub;
	if (ref->attr != NULL && ref->attr->type == AT_COMPLEX)
		return schema_sub_find(ref->attr, "value");
	return ref->attr;
}

/*
 * The full path of n's attribute for an error detail, escaped into
 * name[namesz]: [urn:]attr[.sub] as written, and inside a value path
 * the outer attribute first ("emails.primary", never "primary").
 */
static void
path_name(char *name, size_t namesz, const struct filter_node *n,
    const struct schema_attr *outer)
{
	char raw[LIMIT_PATH_BYTES + 64];

	/* Cut, never overflowed: the name is for a message. */
	snprintf(raw, sizeof(raw), "%s%s%s%s%s%s%s",
	    outer != NULL ? outer->name : "", outer != NULL ? "." : "",
	    n->path.urn != NULL ? n->path.urn : "",
	    n->path.urn != NULL ? ":" : "", n->path.attr,
	    n->path.sub != NULL ? "." : "",
	    n->path.sub != NULL ? n->path.sub : "");
	err_escape(name, namesz, raw, strlen(raw));
}

/* Which rule comparison n breaks against attribute a (0: none). */
static int
compare_fault(const struct filter_node *n, const struct schema_attr *a)
{
	long long ms;

	if (a == NULL || n->op == FILTER_PR || json_is_null(n->value))
		return 0;
	if (a->type == AT_BOOLEAN && (n->op != FILTER_EQ && n->op != FILTER_NE))
		return 1;
	if (a->type == AT_BOOLEAN && !json_is_boolean(n->value) &&
	    !json_is_string(n->value))
		return 2;
	if (a->type == AT_COMPLEX)
		return 3;
	/* dateTimes compare as instants: the value must be one (co, sw
	 * and ew compare text). */
	if (a->type == AT_DATETIME && n->op != FILTER_CO &&
	    n->op != FILTER_SW && n->op != FILTER_EW && (!json_is_string(
	    n->value) || !schema_parse_datetime(json_string_value(n->value),
	    &ms)))
		return 4;
	return 0;
}

/*
 * Checks the operator and value of comparison n against attribute a
 * (inside value path outer, or NULL).  The attribute's name for the
 * detail is only written when there is an error: a filter that checks
 * out costs no formatting (it ran on every filtered request).
 */
static enum scim_err
check_compare(const struct filter_node *n, const struct schema_attr *a,
    const struct schema_attr *outer, struct scim_error *err)
{
	char name[192];
	int fault = compare_fault(n, a);

	if (fault == 0)
		return SCIM_OK;
	path_name(name, sizeof(name), n, outer);
	switch (fault) {
	case 1:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "Operator %s does not apply to boolean %s.",
		    op_names[n->op], name);
	case 2:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is a boolean.", name);
	case 3:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is complex; compare a sub-attribute.", name);
	default:
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is a dateTime: compare it with one (RFC 3339, e.g. "
		    "\"2008-01-23T04:56:22Z\").", name);
	}
}

/*
 * Checks one node against type t (inside a value path, against the
 * sub-attributes of outer): every name known, operators and values
 * that fit the attribute's type.
 */
static enum scim_err
check_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, struct scim_error *err)
{
	struct attr_ref ref;
	const struct schema_attr *a;
	char name[192];
	enum scim_err e;

	switch (n->op) {
	case FILTER_AND:
	case FILTER_OR:
		if ((e = check_node(n->left, t, outer, err)) != SCIM_OK)
			return e;
		return check_node(n->right, t, outer, err);
	case FILTER_NOT:
		return check_node(n->left, t, outer, err);
	default:
		break;
	}
	if (outer != NULL) {
		a = n->path.urn == NULL && n->path.sub == NULL ?
		    schema_sub_find(outer, n->path.attr) : NULL;
		if (a == NULL) {
			path_name(name, sizeof(name), n, outer);
			return err_set(err, SCIM_ERR_INVALID_FILTER,
			    "%s is not a sub-attribute of %s.", name,
			    outer->name);
		}
		return check_compare(n, a, outer, err);
	}
	if (resolve(t, &n->path, &ref) != SCIM_OK || ref.attr == NULL) {
		path_name(name, sizeof(name), n, outer);
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is not an attribute of %s.", name,
		    schema_resource_type(t)->name);
	}
	if (n->op == FILTER_VALUEPATH) {
		if (ref.attr->type != AT_COMPLEX) {
			path_name(name, sizeof(name), n, outer);
			return err_set(err, SCIM_ERR_INVALID_FILTER,
			    "%s is not complex; it takes no [filter].", name);
		}
		return check_node(n->left, t, ref.attr, err);
	}
	if (ref.attr->type == AT_COMPLEX && ref.sub == NULL &&
	    n->op != FILTER_PR && value_attr(&ref) == NULL) {
		path_name(name, sizeof(name), n, outer);
		return err_set(err, SCIM_ERR_INVALID_FILTER,
		    "%s is complex; compare a sub-attribute.", name);
	}
	return check_compare(n, value_attr(&ref), NULL, err);
}

/* check_node() from the root: SCIM_OK or SCIM_ERR_INVALID_FILTER. */
enum scim_err
filter_check(const struct filter_node *n, enum rtype t, struct scim_error *err)
{
	return check_node(n, t, NULL, err);
}

/* ---- matching ------------------------------------------------------------ */

/* Folds a JSON string as attribute a compares (userName: RFC 8265);
 * NULL when not foldable. */
static char *
folded(const struct schema_attr *a, const json_t *s, size_t *len)
{
	char *out;

	if ((a != NULL && a->username ? fold_username : fold_utf8)(
	    json_string_value(s), json_string_length(s), &out, len) != SCIM_OK)
		return NULL;
	return out;
}

/* Compares two strings (already folded when case-insensitive) with op:
 * byte order for gt/ge/lt/le, substring tests for co/sw/ew. */
static bool
string_compare(enum filter_op op, const char *x, size_t xl, const char *y,
    size_t yl)
{
	int c;

	switch (op) {
	case FILTER_EQ:
		return xl == yl && memcmp(x, y, xl) == 0;
	case FILTER_NE:
		return !(xl == yl && memcmp(x, y, xl) == 0);
	case FILTER_CO:
		return yl == 0 || memmem(x, xl, y, yl) != NULL;
	case FILTER_SW:
		return xl >= yl && memcmp(x, y, yl) == 0;
	case FILTER_EW:
		return xl >= yl && memcmp(x + xl - yl, y, yl) == 0;
	default:
		c = memcmp(x, y, xl < yl ? xl : yl);
		if (c == 0)
			c = xl < yl ? -1 : xl > yl;
		return op == FILTER_GT ? c > 0 : op == FILTER_GE ? c >= 0 :
		    op == FILTER_LT ? c < 0 : c <= 0;
	}
}

static bool
order_compare(enum filter_op op, double c)
{
	switch (op) {
	case FILTER_EQ: return c == 0;
	case FILTER_NE: return c != 0;
	case FILTER_GT: return c > 0;
	case FILTER_GE: return c >= 0;
	case FILTER_LT: return c < 0;
	case FILTER_LE: return c <= 0;
	default: return false;
	}
}

/* Whether one actual value satisfies `op expected` for attribute a. */
static bool
compare_one(const struct schema_attr *a, enum filter_op op, const json_t *v,
    const json_t *want)
{
	char buf[64], *fx, *fy;
	const char *ws;
	size_t xl, yl;
	long long x, y;
	bool r;

	/* The work budget: a comparison, and each byte it may compare. */
	if (!work_spend(1 + (json_is_string(v) ? json_string_length(v) : 0) +
	    (json_is_string(want) ? json_string_length(want) : 0)))
		return false;
	if (json_is_null(v))
		return false;
	if (json_is_boolean(v)) {
		bool w;

		if (json_is_boolean(want))
			w = json_is_true(want);
		else if (json_is_string(want) &&
		    (strcasecmp(json_string_value(want), "true") == 0 ||
		    strcasecmp(json_string_value(want), "false") == 0))
			w = strcasecmp(json_string_value(want), "true") == 0;
		else
			return op == FILTER_NE;
		if (op == FILTER_EQ)
			return json_is_true(v) == w;
		if (op == FILTER_NE)
			return json_is_true(v) != w;
		return false;
	}
	if (json_is_number(v)) {
		if (!json_is_number(want))
			return op == FILTER_NE;
		return order_compare(op, json_number_value(v) -
		    json_number_value(want));
	}
	if (!json_is_string(v))
		return false;
	/* A number written unquoted compares as its text (Entra). */
	if (json_is_integer(want)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(want));
		ws = buf;
		yl = strlen(buf);
	} else if (json_is_string(want)) {
		ws = json_string_value(want);
		yl = json_string_length(want);
	} else
		return op == FILTER_NE;
	if (a != NULL && a->type == AT_DATETIME && op != FILTER_CO &&
	    op != FILTER_SW && op != FILTER_EW &&
	    schema_parse_datetime(json_string_value(v), &x) &&
	    schema_parse_datetime(ws, &y))
		return order_compare(op, (double)(x - y));
	if (a != NULL && a->case_exact)
		return string_compare(op, json_string_value(v),
		    json_string_length(v), ws, yl);
	{
		json_t *wj = json_stringn(ws, yl);

		fx = folded(a, v, &xl);
		fy = wj ? folded(a, wj, &yl) : NULL;
		json_decref(wj);
	}
	r = fx != NULL && fy != NULL && string_compare(op, fx, xl, fy, yl);
	free(fx);
	free(fy);
	return r;
}

/* Whether value v (a present value) counts as present for pr. */
static bool
present(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return true;
}

static bool match_absent(const struct filter_node *n);

/*
 * Tests comparison n against value v of attribute `a`, where sub (may
 * be NULL) selects a sub-attribute.  Multi-valued values match when any
 * element does; complex elements without a sub compare their "value".
 */
static bool
match_value(const struct filter_node *n, const struct schema_attr *a,
    const struct schema_attr *sub, const json_t *v)
{
	const struct schema_attr *vt;
	const json_t *el, *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, el)
			if (match_value(n, a, sub, el))
				return true;
		return false;
	}
	if (json_is_object(v)) {
		const char *key = sub ? sub->name : "value";

		x = NULL;
		{
			const char *k;
			json_t *val;

			json_object_foreach((json_t *)v, k, val)
				if (strcasecmp(k, key) == 0)
					x = val;
		}
		vt = sub ? sub : (a ? schema_sub_find(a, "value") : NULL);
		if (n->op == FILTER_PR)
			return present(x);
		/* An element without the sub-attribute compares as the
		 * value path does (emails[type ne "work"]: match_leaf). */
		if (x == NULL || json_is_null(x))
			return match_absent(n);
		return compare_one(vt, n->op, x, n->value);
	}
	if (n->op == FILTER_PR)
		return present(v);
	return compare_one(sub ? sub : a, n->op, v, n->value);
}

/* Evaluates a comparison whose value is absent. */
static bool
match_absent(const struct filter_node *n)
{
	if (n->op == FILTER_NE)
		return !json_is_null(n->value);
	if (n->op == FILTER_EQ)
		return json_is_null(n->value);
	return false;
}

static bool match_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj);

/* A comparison or value path on the resource (outer == NULL) or on an
 * element of a complex attribute (outer). */
static bool
match_leaf(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj)
{
	struct attr_ref ref;
	const json_t *v, *el;
	size_t i;

	if (outer != NULL) {
		const struct schema_attr *a = schema_sub_find(outer,
		    n->path.attr);
		const char *k;
		json_t *val;

		if (a == NULL)
			return false;
		v = NULL;
		json_object_foreach((json_t *)obj, k, val)
			if (strcasecmp(k, a->name) == 0)
				v = val;
		if (v == NULL || json_is_null(v))
			return match_absent(n);
		return match_value(n, a, NULL, v);
	}
	if (resolve(t, &n->path, &ref) != SCIM_OK || ref.attr == NULL)
		return false;
	if (ref.is_ext)
		obj = json_object_get(obj, ref.schema->urn);
	v = obj != NULL ? json_object_get(obj, ref.attr->name) : NULL;
	if (n->op == FILTER_VALUEPATH) {
		if (json_is_object(v))
			return match_node(n->left, t, ref.attr, v);
		json_array_foreach(v, i, el)
			if (json_is_object(el) &&
			    match_node(n->left, t, ref.attr, el))
				return true;
		return false;
	}
	if (v == NULL || json_is_null(v) ||
	    (json_is_array(v) && json_array_size(v) == 0)) {
		/* A multi-valued attribute without values has no value
		 * that could differ: ne matches nothing there. */
		if (ref.attr->multi_valued && n->op == FILTER_NE)
			return false;
		return match_absent(n);
	}
	if (ref.sub != NULL && json_is_object(v)) {
		const json_t *x = json_object_get(v, ref.sub->name);

		if (x == NULL || json_is_null(x))
			return match_absent(n);
		return n->op == FILTER_PR ? present(x) :
		    compare_one(ref.sub, n->op, x, n->value);
	}
	if (n->op == FILTER_PR && ref.sub == NULL)
		return present(v);
	/* Multi-valued: any value matches, for every operator (ne too:
	 * emails.type ne "work" is "some email's type is not work", as
	 * emails[type ne "work"] is; "no email is work" is not (...)). */
	return match_value(n, ref.attr, ref.sub, v);
}

static bool
match_node(const struct filter_node *n, enum rtype t,
    const struct schema_attr *outer, const json_t *obj)
{
	switch (n->op) {
	case FILTER_AND:
		return match_node(n->left, t, outer, obj) &&
		    match_node(n->right, t, outer, obj);
	case FILTER_OR:
		return match_node(n->left, t, outer, obj) ||
		    match_node(n->right, t, outer, obj);
	case FILTER_NOT:
		return !match_node(n->left, t, outer, obj);
	default:
		return match_leaf(n, t, outer, obj);
	}
}

/* Evaluates the tree on one resource (match_node from the root). */
bool
filter_match(const struct filter_node *n, enum rtype t, const json_t *resource)
{
	return match_node(n, t, NULL, resource);
}
