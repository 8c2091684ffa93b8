/* The version of the database schema this source tree was written for.
 *
 * sql/sqlite.sql, sql/pgsql.sql and sql/mysql.sql record it as the one row
 * of table schema_version (id 1, column version), and tools/polycom-dbupgrade
 * (/usr/sbin/polycom-dbupgrade in the Debian package) migrates an older
 * database to it. A database made before versions were recorded has no
 * schema_version table: that is version 0, whatever tables it has.
 *
 * Raise the number with every change to the schema that the module depends
 * on, in the same commit as the three schema files' INSERT INTO
 * schema_version and the migration step in tools/polycom-dbupgrade;
 * t/dbupgrade.t checks that they agree.
 */
#ifndef POLYCOM_SCHEMA_H
#define POLYCOM_SCHEMA_H

#define POLYCOM_SCHEMA_VERSION 4

/* The first version whose table scope_revisions records every move of the
 * revision (src/scopes.c): before it, cached files are served for their
 * very revision only. */
#define POLYCOM_SCHEMA_SCOPES 4

/* How the module reads the version of the database it is given: no row
 * (or no table) is version 0, an older schema; a number above
 * POLYCOM_SCHEMA_VERSION is a schema from a newer module, whose meaning
 * this one cannot know. */
#define POLYCOM_SCHEMA_VERSION_QUERY \
    "SELECT version FROM schema_version WHERE id = 1"

#endif /* POLYCOM_SCHEMA_H */
