/*
 * work.h: the work budget of one request.
 *
 * Bounded input is not bounded work: a 64-term `co` filter over large
 * records, or a member filter over a group of 20,000, costs seconds
 * while each of its parts is within limits.h.  So each request gets
 * LIMIT_WORK_UNITS units: the filter evaluator spends one per comparison
 * plus one per byte compared, a member filter one per member examined
 * (plus its comparisons), PATCH one per value compared.  Once they are
 * spent, work_spend() returns false for the rest of the request and the
 * evaluator stops comparing (its verdicts are then meaningless); the
 * code that ran it calls work_check(), which returns SCIM_ERR_TOO_MANY,
 * inside the write transaction when there is one, so the request
 * changes nothing.
 *
 * scimd answers one request at a time per process: the budget is one
 * process-wide counter, set by app_serve() around each request.  Outside
 * a request (scimctl, unit tests) there is no limit.
 */
#ifndef SCIMD_WORK_H
#define SCIMD_WORK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Grants the request units of work (0: unlimited). */
void		work_begin(unsigned long long units);

/* Ends the request's budget: unlimited again. */
void		work_end(void);

/* Spends units; false once the budget is exhausted (and ever after, until
 * the next work_begin). */
bool		work_spend(size_t units);

/* SCIM_OK, or SCIM_ERR_TOO_MANY (400 tooMany) with a detail when the
 * budget is exhausted. */
enum scim_err	work_check(struct scim_error *err);

#endif
