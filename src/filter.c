/*
 * filter.c: parser and printer of SCIM filters (RFC 7644 section
 * 3.4.2.2).  The parser is a recursive descent over the text with
 * explicit bounds on length, nesting and the number of terms.  Checking
 * a filter against the schema and evaluating it are in filter_eval.c.
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

/* The operator's name as the grammar spells it ("eq", "and"...). */
const char *
filter_op_name(enum filter_op op)
{
	return op < FILTER_VALUEPATH ? op_names[op] : "[]";
}

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
