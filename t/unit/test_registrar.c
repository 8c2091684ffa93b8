/* Unit tests of src/registrar.c against a real SQLite file holding
 * Kamailio's location table as its own schema makes it (the sqlite3 CLI;
 * run from the top of the tree): the admin's query, its %s for user and
 * domain, columns by name, and what a failure says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_registrar.h"
#include "tap.h"

int main(void)
{
    apr_pool_t *pool;
    polycom_registrar *registrar = NULL;
    const char *contact, *received, *error = NULL, *path;
    char template[] = "/tmp/polycom-registrar-XXXXXX";
    apr_file_t *file;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);
    if (apr_file_mktemp(&file, template, 0, pool) != APR_SUCCESS) {
        printf("Bail out! no temporary file\n");
        return 1;
    }
    path = template;
    if (system(apr_psprintf(pool, "sqlite3 '%s' \"CREATE TABLE location ("
                            "username TEXT, domain TEXT, contact TEXT, "
                            "received TEXT, expires TEXT); INSERT INTO "
                            "location VALUES ('1042', 'pbx.example.com', "
                            "'<sip:1042@10.0.0.4:5062;transport=tcp>', "
                            "'sip:198.51.100.9:40001', '2030-01-01'), "
                            "('1043', NULL, 'sip:1043@10.0.0.5', NULL, "
                            "'2030-01-01')\"", path)) != 0) {
        printf("Bail out! the sqlite3 CLI could not make %s\n", path);
        return 1;
    }

    tap_is_int(polycom_registrar_open(pool, "nosuchdriver", path,
                                      "SELECT 1", &registrar, &error), -1,
               "an unknown driver is refused");
    tap_ok(error && strstr(error, "nosuchdriver"), "saying which: %s",
           error ? error : "(nothing)");
    tap_is_int(polycom_registrar_open(pool, "sqlite3", path,
                                      "SELECT contact FROM nosuchtable "
                                      "WHERE username = %s", &registrar,
                                      &error), -1,
               "a query that does not prepare is refused");
    tap_ok(error && strstr(error, "prepare"), "saying so: %s",
           error ? error : "(nothing)");

    tap_is_int(polycom_registrar_open(pool, "sqlite3", path,
                                      "SELECT contact, received FROM location"
                                      " WHERE username = %s AND (domain = %s"
                                      " OR domain IS NULL)"
                                      " ORDER BY expires DESC",
                                      &registrar, &error), 0,
               "the admin's query on Kamailio's table");
    tap_is_int(polycom_registrar_lookup(registrar, pool, "1042",
                                        "pbx.example.com", &contact,
                                        &received, &error), 1,
               "a registered line is found");
    tap_is_str(contact, "<sip:1042@10.0.0.4:5062;transport=tcp>",
               "its contact");
    tap_is_str(received, "sip:198.51.100.9:40001", "and where it came from");
    tap_is_int(polycom_registrar_lookup(registrar, pool, "1042",
                                        "other.example.com", &contact,
                                        &received, &error), 0,
               "the second %%s is the domain");
    tap_is_int(polycom_registrar_lookup(registrar, pool, "1043",
                                        "pbx.example.com", &contact,
                                        &received, &error), 1,
               "a row without received");
    tap_is_str(received, "", "reads as empty");
    tap_is_int(polycom_registrar_lookup(registrar, pool, "9999", "",
                                        &contact, &received, &error), 0,
               "an unknown line is not registered");

    tap_is_int(polycom_registrar_open(pool, "sqlite3", path,
                                      "SELECT username FROM location"
                                      " WHERE username = %s",
                                      &registrar, &error), 0,
               "a query without a contact column opens");
    tap_is_int(polycom_registrar_lookup(registrar, pool, "1042", "",
                                        &contact, &received, &error), -1,
               "but its rows are an error");
    tap_ok(error && strstr(error, "contact"), "naming the column: %s",
           error ? error : "(nothing)");

    apr_file_close(file);
    apr_file_remove(path, pool);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
