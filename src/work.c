/*
 * work.c: the work budget of one request (work.h).
 */
#include "config.h"

#include "limits.h"
#include "work.h"

static bool			 limited;	/* inside a request */
static bool			 exhausted;
static unsigned long long	 left;

/* Grants units, or no limit for 0. */
void
work_begin(unsigned long long units)
{
	limited = units > 0;
	exhausted = false;
	left = units;
}

/* No limit until the next request. */
void
work_end(void)
{
	work_begin(0);
}

/* Spends units; false, and exhausted for good, when they are not there. */
bool
work_spend(size_t units)
{
	if (!limited)
		return true;
	if (exhausted || units > left) {
		exhausted = true;
		left = 0;
		return false;
	}
	left -= units;
	return true;
}

/* SCIM_ERR_TOO_MANY once exhausted. */
enum scim_err
work_check(struct scim_error *err)
{
	if (!exhausted)
		return SCIM_OK;
	return err_set(err, SCIM_ERR_TOO_MANY, "The request needs more work "
	    "than one request may do (%llu units: one per comparison and per "
	    "byte compared); nothing was changed.  Use fewer filter terms, or "
	    "indexed ones.", (unsigned long long)LIMIT_WORK_UNITS);
}
