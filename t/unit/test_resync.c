/* Unit tests of src/resync.c against a real SQLite database (sql/sqlite.sql,
 * loaded by the sqlite3 CLI; run from the top of the tree): where a resync
 * NOTIFY goes, when the pacing lets it go (as the admin API reports it),
 * and which node sends it. */
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_resync.h"
#include "polycom_sip.h"
#include "polycom_store.h"
#include "tap.h"

#define SEC(n) apr_time_from_sec(n)

static apr_pool_t *pool;
static const apr_dbd_driver_t *driver;
static apr_dbd_t *handle;

static int sql(const char *statement)
{
    int nrows;

    return apr_dbd_query(driver, handle, &nrows, statement);
}

/* The first column of the first row of @a statement, or NULL. */
static const char *first_value(const char *statement)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *value = NULL;

    if (apr_dbd_select(driver, pool, handle, &res, statement, 0) != 0) {
        return NULL;
    }
    while (apr_dbd_get_row(driver, pool, res, &row, -1) == 0) {
        if (!value) {
            value = apr_pstrdup(pool, apr_dbd_get_entry(driver, row, 0));
        }
    }
    return value;
}

/* The phones of the tests: two in one /24, one elsewhere that is reached
 * where it last checked in from, one that never checked in. */
static int add_phones(void)
{
    return sql("INSERT INTO phones (mac, model, sip_address) VALUES"
               " ('0004f2000001', 'VVX411', '192.0.2.10'),"
               " ('0004f2000002', 'VVX411', '192.0.2.11:5070'),"
               " ('0004f2000003', 'VVX411', ''),"
               " ('0004f2000004', 'VVX411', ''),"
               " ('0004f2000005', 'VVX411', '203.0.113.5'),"
               " ('0004f2000006', 'VVX411', '192.0.2.12:0')")
           || sql("INSERT INTO last_seen (mac, time_us, ip) VALUES"
                  " ('0004f2000003', 1, '198.51.100.7')")
           || sql("INSERT INTO params (scope, scope_key, name, value) VALUES"
                  " ('phone', '0004f2000003', 'voIpProt.SIP.local.port',"
                  "  '5080'),"
                  " ('phone', '0004f2000001', 'reg.1.address',"
                  "  '1001@pbx.example.com'),"
                  " ('phone', '0004f2000001', 'reg.1.auth.userId', 'u1001'),"
                  " ('phone', '0004f2000001', 'reg.1.auth.password',"
                  "  'line-pw')");
}

static void test_targets(polycom_db *db, apr_time_t now)
{
    polycom_resync_pacing pacing = { 0, 0, 0 };
    apr_time_t when = 0;
    const char *why = NULL;

    tap_is_int(polycom_resync_enqueue(db, "0004f2999999", 0, "admin", now,
                                      &pacing, &when, &why), -2,
               "an unknown phone cannot be resynced");
    tap_is_str(why, "no such phone", "and the admin is told why");
    why = NULL;
    tap_is_int(polycom_resync_enqueue(db, "0004f2000004", 0, "admin", now,
                                      &pacing, &when, &why), -2,
               "nor one that never checked in and has no SIP address");
    tap_ok(why && strstr(why, "never checked in"), "and the admin is told "
           "why: %s", why ? why : "(nothing)");
    why = NULL;
    tap_is_int(polycom_resync_enqueue(db, "0004f2000006", 0, "admin", now,
                                      &pacing, &when, &why), -2,
               "nor one whose SIP address has port 0");
    tap_ok(why && strstr(why, "not valid"), "and the admin is told why: %s",
           why ? why : "(nothing)");
    tap_is_str(first_value("SELECT count(*) FROM resync_queue"
                           " WHERE state = 'queued'"), "0",
               "none of them was queued");
    tap_is_str(first_value("SELECT count(*) FROM resync_queue"
                           " WHERE state = 'failed' AND reason <> ''"
                           " AND mac IN ('0004f2000004', '0004f2000006')"),
               "2", "each known phone has a failed job saying why (its "
               "resyncs show it, never skipped silently)");
    sql("DELETE FROM resync_queue");
}

/* Through a registrar: a phone never seen is queued when it has a line,
 * and the worker's route follows the proxy or the registered contact. */
static void test_registrar_route(polycom_db *db, apr_time_t now)
{
    polycom_resync_pacing pacing = { 0, 0, 1 };
    polycom_resync_route route;
    polycom_resync_job job;
    apr_time_t when = 0;
    const char *why = NULL;

    sql("DELETE FROM resync_queue");
    sql("INSERT INTO params (scope, scope_key, name, value) VALUES"
        " ('phone', '0004f2000004', 'reg.1.address', '1004')");
    tap_is_int(polycom_resync_enqueue(db, "0004f2000004", 0, "admin", now,
                                      &pacing, &when, &why), 0,
               "a phone never seen, with a line, is queued for the "
               "registrar");
    tap_is_int(polycom_resync_claim(db, "node-1", now, &job), 1, "claimed");
    tap_ok(job.registrar_first && !*job.target.host, "no direct address; "
           "the registrar first");
    memset(&route, 0, sizeof(route));
    route.proxy_host = "192.0.2.99";
    route.proxy_port = 5070;
    route.proxy_transport = POLYCOM_SIP_TCP;
    route.registrar = 1;
    tap_ok(polycom_resync_wants_lookup(&job, &route), "the table is asked");
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 0, "", "", &why),
               -1, "not registered and never seen: not sent");
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 1,
                                        "sip:1004@10.0.0.4:5062", "", &why),
               0, "registered: sent");
    tap_is_str(job.target.request_uri, "sip:1004@192.0.2.99",
               "through the proxy to the AOR (its domain: the proxy's)");
    tap_ok(job.target.port == 5070 && job.target.transport == POLYCOM_SIP_TCP,
           "to the proxy's port over its transport");
    route.proxy_host = NULL;
    job.target.host = "";
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 1,
                                        "\"Desk\" <sip:1004@10.0.0.4:5062;"
                                        "transport=tcp>;expires=60",
                                        "sip:198.51.100.9:40001", &why), 0,
               "no proxy: straight to the registration");
    tap_ok(!strcmp(job.target.host, "198.51.100.9")
           && job.target.port == 40001
           && job.target.transport == POLYCOM_SIP_TCP
           && !strcmp(job.target.request_uri,
                      "sip:1004@10.0.0.4:5062;transport=tcp"),
           "to the NAT binding it registered from, over TCP, Request-URI "
           "the Contact");
    job.target.tls_ca = "/etc/ssl/sip-ca.pem";
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 1,
                                        "<sip:1004@10.0.0.4:5061;"
                                        "transport=TLS>;expires=60",
                                        "sip:198.51.100.9:40002;"
                                        "transport=tls", &why), 0,
               "a registration over TLS");
    tap_ok(!strcmp(job.target.host, "198.51.100.9")
           && job.target.port == 40002
           && job.target.transport == POLYCOM_SIP_TLS
           && !strcmp(job.target.tls_ca, "/etc/ssl/sip-ca.pem"),
           "goes over TLS to where it registered from, verified against "
           "the CA");
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 1,
                                        "sips:1004@phone4.example", "", &why),
               0, "a sips: Contact");
    tap_ok(!strcmp(job.target.host, "phone4.example")
           && job.target.port == 5061
           && job.target.transport == POLYCOM_SIP_TLS,
           "over TLS to its host, port 5061");
    route.proxy_host = "sip.example.net";
    route.proxy_port = 5061;
    route.proxy_transport = POLYCOM_SIP_TLS;
    job.target.host = "";
    tap_is_int(polycom_resync_route_job(pool, &job, &route, 1,
                                        "sip:1004@10.0.0.4:5062", "", &why),
               0, "a proxy over TLS");
    tap_ok(!strcmp(job.target.host, "sip.example.net")
           && job.target.transport == POLYCOM_SIP_TLS
           && strstr(job.route, "sip.example.net:5061/TLS"),
           "to the proxy's name over TLS, and the job says so");
    sql("DELETE FROM resync_queue");
}

static void test_pacing(polycom_db *db, apr_time_t now)
{
    /* 6 a minute overall (10 s apart), 1 a minute per /24. */
    polycom_resync_pacing pacing = { 6, 1, 0 };
    apr_time_t a, b, e, c, again;
    const char *why = NULL;

    tap_ok(polycom_resync_enqueue(db, "0004f2000001", 0, "admin", now,
                                  &pacing, &a, &why) == 0 && a == now,
           "the first NOTIFY goes at once");
    tap_ok(polycom_resync_enqueue(db, "0004f2000002", 1, "admin", now,
                                  &pacing, &b, &why) == 0,
           "a second phone in the same /24 is queued");
    tap_is_int(b - now, SEC(60), "a minute later: 1 a minute per network");
    tap_ok(polycom_resync_enqueue(db, "0004f2000005", 0, "admin", now,
                                  &pacing, &e, &why) == 0,
           "a phone in another network is queued");
    tap_is_int(e - now, SEC(70),
               "10 s after the latest queued: 6 a minute overall");
    tap_ok(polycom_resync_enqueue(db, "0004f2000003", 0, "admin", now,
                                  &pacing, &c, &why) == 0,
           "a phone known only by where it checked in from is queued");
    tap_is_int(c - now, SEC(80), "10 s after that");
    tap_is_str(first_value("SELECT host || ':' || port || ' ' || network"
                           " FROM resync_queue WHERE mac = '0004f2000003'"),
               "198.51.100.7:5080 198.51.100",
               "to the address it checked in from, on its SIP port");
    tap_is_str(first_value("SELECT host || ':' || port || ' ' || network"
                           " || ' ' || reboot FROM resync_queue"
                           " WHERE mac = '0004f2000002'"),
               "192.0.2.11:5070 192.0.2 1",
               "a SIP address with a port, its /24, a reboot asked for");
    tap_ok(polycom_resync_enqueue(db, "0004f2000001", 0, "admin", now + SEC(5),
                                  &pacing, &again, &why) == 0,
           "a second resync of the first phone is queued");
    tap_is_int(again - now, SEC(120),
               "a minute after its network's last, though the overall "
               "pace would let it go at 90 s");
}

static void test_unpaced(polycom_db *db, apr_time_t now)
{
    polycom_resync_pacing pacing = { 0, 0, 0 };
    apr_time_t when = 0;
    const char *why = NULL;

    tap_ok(polycom_resync_enqueue(db, "0004f2000002", 0, "admin", now,
                                  &pacing, &when, &why) == 0 && when == now,
           "without pacing a NOTIFY goes at once, whatever is queued");
}

static void test_claim(polycom_db *db, apr_time_t now)
{
    polycom_resync_job job;
    polycom_notify_outcome outcome;

    tap_is_int(polycom_resync_claim(db, "node-1", now, &job), 1,
               "the job that is due is claimed");
    tap_is_str(job.mac, "0004f2000001", "the earliest one");
    tap_ok(job.target.host && !strcmp(job.target.host, "192.0.2.10")
           && job.target.port == 5060 && !job.target.reboot,
           "to its SIP address, port 5060, no reboot");
    tap_is_str(job.target.user, "1001", "addressed to its line 1");
    tap_ok(job.target.auth_user && !strcmp(job.target.auth_user, "u1001")
           && job.target.auth_password
           && !strcmp(job.target.auth_password, "line-pw"),
           "with the line's credentials for a challenge");
    tap_is_int(polycom_resync_claim(db, "node-2", now, &job), 0,
               "another node finds nothing more due now");
    tap_is_int(polycom_resync_claim(db, "node-2", now + SEC(59), &job), 0,
               "nor a second before the next one's slot");
    tap_is_int(polycom_resync_claim(db, "node-2", now + SEC(60), &job), 1,
               "a minute later the next one is due");
    tap_is_str(job.mac, "0004f2000002", "the phone paced a minute later");
    tap_is_str(job.target.user, "", "no line: the NOTIFY goes to the host");

    memset(&outcome, 0, sizeof(outcome));
    outcome.status = 200;
    outcome.reason = "OK";
    outcome.transmissions = 1;
    tap_is_int(polycom_resync_finish(db, &job, &outcome), 0,
               "its outcome is recorded");
    tap_is_str(first_value(apr_psprintf(pool, "SELECT state || ' ' || status"
                                        " FROM resync_queue WHERE id = %s",
                                        job.id)), "done 200",
               "as done, with the phone's answer");

    tap_is_int(polycom_resync_claim(db, "node-2", now + SEC(301), &job), 1,
               "a job its node claimed and never finished");
    tap_is_str(job.mac, "0004f2000001",
               "is claimed again after 5 minutes by another node");
}

int main(void)
{
    apr_hash_t *prepared;
    apr_file_t *file;
    const char *error, *dir;
    char *path;
    polycom_db db;
    apr_time_t now = SEC(1700000000);

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);

    apr_temp_dir_get(&dir, pool);
    path = apr_pstrcat(pool, dir, "/polycom-test-resync-XXXXXX", NULL);
    if (apr_file_mktemp(&file, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                        | APR_FOPEN_EXCL | APR_FOPEN_DELONCLOSE, pool)
        != APR_SUCCESS
        || system(apr_psprintf(pool, "sqlite3 '%s' '.read sql/sqlite.sql' "
                               ">/dev/null", path)) != 0
        || apr_dbd_get_driver(pool, "sqlite3", &driver) != APR_SUCCESS
        || apr_dbd_open(driver, pool, path, &handle) != APR_SUCCESS) {
        printf("Bail out! no SQLite database at %s (sqlite3 CLI, "
               "libaprutil1-dbd-sqlite3, run from the top of the tree)\n",
               path);
        return 1;
    }
    prepared = apr_hash_make(pool);
    if (polycom_store_session(pool, driver, handle, &error) != 0
        || polycom_store_prepare(pool, driver, handle, prepared, &error) != 0
        || add_phones() != 0) {
        printf("Bail out! the test database is not ready: %s\n",
               apr_dbd_error(driver, handle, 0));
        return 1;
    }
    polycom_store_init(&db, driver, handle, prepared, pool);

    test_targets(&db, now);
    test_pacing(&db, now);
    test_claim(&db, now);
    sql("DELETE FROM resync_queue");
    test_unpaced(&db, now);
    test_registrar_route(&db, now + SEC(3600));

    apr_dbd_close(driver, handle);
    apr_file_remove(apr_pstrcat(pool, path, "-wal", NULL), pool);
    apr_file_remove(apr_pstrcat(pool, path, "-shm", NULL), pool);
    apr_file_close(file);
    return tap_done();
}
