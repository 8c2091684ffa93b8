/**
 * @file polycom_registrar.h
 * @brief Where a phone is registered, read from its registrar's own
 *        registration table (Kamailio's location, Asterisk realtime's
 *        ps_contacts, FreeSWITCH's sip_registrations) with a query the
 *        admin writes, over an APR DBD connection of its own: the
 *        registrar's database is seldom the module's (pure C: APR-util).
 */
#ifndef POLYCOM_REGISTRAR_H
#define POLYCOM_REGISTRAR_H

#include <apr_pools.h>

typedef struct polycom_registrar polycom_registrar;

/**
 * Open @a driver ("sqlite3", "pgsql", "mysql", ...) with @a params and
 * prepare @a query, whose first %s is the line's user and second (if any)
 * its domain, and which returns a column "contact" and optionally
 * "received". The connection lives as long as @a pool. Returns 0, or -1
 * with *error.
 */
int polycom_registrar_open(apr_pool_t *pool, const char *driver,
                           const char *params, const char *query,
                           polycom_registrar **out, const char **error);

/**
 * The first row for @a user at @a domain: 1 with *contact and *received
 * ("" when the query has no such column or it is NULL), 0 when the phone
 * is not registered, -1 with *error when the query failed (the connection
 * should then be opened again).
 */
int polycom_registrar_lookup(polycom_registrar *registrar, apr_pool_t *pool,
                             const char *user, const char *domain,
                             const char **contact, const char **received,
                             const char **error);

#endif /* POLYCOM_REGISTRAR_H */
