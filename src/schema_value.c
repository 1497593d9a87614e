/*
 * schema_value.c: attribute values.
 *
 * The strict RFC 3339 dateTime parser and the equality of two
 * values of an attribute by its type and caseExact.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fold.h"
#include "limits.h"
#include "schema.h"
#include "schema_tables.h"
#include "schema_impl.h"

/* Reads exactly n ASCII digits at *p into *v and advances *p past them;
 * false (and *p unchanged) when there are fewer. */
static bool
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* Whether *p is c; advances past it when it is. */
static bool
expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Days in month mo (1-12) of year y, leap years by the Gregorian rule. */
static int
month_days(int y, int mo)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[mo - 1];
}

/* Days since 1970-01-01 of a valid civil date (Howard Hinnant's
 * days_from_civil: no time zone, no libc). */
static long long
days_from_civil(int y, int mo, int d)
{
	int yy = y - (mo <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (long long)era * 146097 + doe - 719468;
}

/* Whether t59, the UTC instant (seconds) of the second before a leap
 * second written in year y, is 23:59:59 on 30 June or 31 December:
 * the UTC date is in year y - 1, y or y + 1 (offsets are under a day). */
static bool
leap_second_ok(long long t59, int y)
{
	long long day = t59 / 86400 - (t59 % 86400 < 0);
	int yy;

	if (t59 - day * 86400 != 86399)
		return false;
	for (yy = y - 1; yy <= y + 1; yy++)
		if (day == days_from_civil(yy, 6, 30) ||
		    day == days_from_civil(yy, 12, 31))
			return true;
	return false;
}

/*
 * The RFC 3339 date-time grammar (section 5.6), as xsd:dateTime also
 * reads it (RFC 7643 2.3.5): full-date "T" full-time, upper-case T and Z,
 *	YYYY-MM-DD "T" hh:mm:ss [.fraction] ("Z" / ("+" / "-") hh:mm)
 * every field its exact number of digits, each range checked: month
 * 01-12, day within its month (29 February in leap years only), hour
 * 00-23, minute 00-59, second 00-59, offset hours 00-23 and minutes
 * 00-59.  Second 60 is a leap second, which RFC 3339 (5.6, 5.7 and
 * appendix D) places at 23:59:60 UTC on the last day of June or
 * December: any other 60 is refused.  Fractions beyond milliseconds
 * are read and dropped.  *ms is the instant, in milliseconds since the
 * epoch (a leap second counts as the second after it).
 */
bool
schema_parse_datetime(const char *s, long long *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, fdig = 0;
	int sign = 0;
	const char *p = s;
	long long t;

	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') ||
	    !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
	    !expect(&p, ':') || !digits(&p, 2, &sec))
		return false;
	if (expect(&p, '.')) {
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++)
			if (fdig < 3) {
				frac = frac * 10 + (*p - '0');
				fdig++;
			}
		for (; fdig < 3; fdig++)
			frac *= 10;
	}
	if (expect(&p, '+'))
		sign = 1;
	else if (expect(&p, '-'))
		sign = -1;
	else if (!expect(&p, 'Z'))
		return false;
	if (sign != 0 && (!digits(&p, 2, &oh) || !expect(&p, ':') ||
	    !digits(&p, 2, &om) || oh > 23 || om > 59))
		return false;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	if (sec == 60 && !leap_second_ok(t - 1, y))
		return false;
	*ms = t * 1000 + frac;
	return true;
}

/* Strings by the attribute's caseExact (userName by RFC 8265), dateTimes
 * as instants, numbers numerically, anything else by json_equal. */
bool
schema_value_equal(const struct schema_attr *a, const json_t *x,
    const json_t *y)
{
	if (x == NULL || y == NULL)
		return x == y;
	if (json_is_string(x) && json_is_string(y)) {
		const char *xs = json_string_value(x),
		    *ys = json_string_value(y);
		size_t xl = json_string_length(x), yl = json_string_length(y);
		long long xt, yt;

		if (a != NULL && a->type == AT_DATETIME &&
		    schema_parse_datetime(xs, &xt) && schema_parse_datetime(ys,
		    &yt))
			return xt == yt;
		if (a == NULL || a->case_exact)
			return xl == yl && memcmp(xs, ys, xl) == 0;
		if (a->username)
			return fold_username_equal(xs, xl, ys, yl);
		return fold_equal(xs, xl, ys, yl);
	}
	if (json_is_number(x) && json_is_number(y))
		return json_number_value(x) == json_number_value(y);
	return json_equal((json_t *)x, (json_t *)y);
}
