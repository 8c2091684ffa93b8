# mod_polycom: make run | make test | make install | make clean
APXS    ?= apxs
PERL    ?= perl
CC      ?= cc
comma   := ,
WARN     = -Wall -Wextra -Wno-unused-parameter -Werror
# Evaluated when a recipe runs, after `deps` has installed pkg-config & co.
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0)
# SQLite itself too: src/store_native.c runs reads on apr_dbd's handle.
XML_LIBS   = $(shell pkg-config --libs libxml-2.0) \
             $(shell pkg-config --libs jansson) -lcsv \
             $(shell pkg-config --libs openssl) \
             $(shell pkg-config --libs sqlite3)
APR_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes) \
             $(shell apu-1-config --includes)
APR_LIBS   = $(shell apr-1-config --link-ld --libs) \
             $(shell apu-1-config --link-ld --libs)

# The pure parts: no httpd headers, linked into the module and the tests.
PURE_SRC = src/cache.c src/checkin.c src/name.c src/useragent.c src/render.c \
           src/ucs_elements.c src/upload.c src/store.c src/store_session.c \
           src/store_sql.c src/store_phone.c src/store_checkin.c \
           src/store_native.c src/admin.c \
           src/admin_phones.c src/admin_params.c src/admin_import.c \
           src/admin_reprovision.c src/admin_resync.c src/admin_fleet.c \
           src/admin_rows.c src/admin_stats.c src/metrics.c \
           src/reprovision.c src/sip.c src/notify.c src/resync.c src/registrar.c \
           src/wire.c
PURE_SRC += src/param.c src/digest.c src/guard.c src/outage.c src/device.c \
            src/shmcache.c src/reach.c
PURE_SRC += src/layers.c src/flat.c src/admin_explain.c src/admin_diff.c \
            src/admin_history.c src/admin_dryrun.c
PURE_SRC += src/devicecert.c
PURE_SRC += src/siptls.c
PURE_SRC += src/scopes.c
PURE_SRC += src/admin_bulk.c
PURE_SRC += src/seen.c
HEADERS  = $(wildcard include/*.h)
MODULE   = .libs/mod_polycom.so
# Every t/unit/test_*.c is a unit test: built here, run by t/unit.t.
UNIT     = $(patsubst %.c,%,$(wildcard t/unit/test_*.c))

FUZZ_TARGETS = name useragent render sip admin_json upload wire import_csv
FUZZ_DRIVERS = $(addprefix t/fuzz/run_,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 20
CLANG ?= clang

.PHONY: all build deps run test test-mysql unit install clean fuzz test-asan bench \
        deb test-deb

all: build

deps:
	@sh tools/deps.sh

build: deps
	@$(MAKE) --no-print-directory $(MODULE) $(UNIT) $(FUZZ_DRIVERS)

# SANITIZE=address,undefined builds the module for `make test-asan`; the
# flags are remembered so that switching back rebuilds.
SANITIZE ?=
SAN_FLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)

.build-flags: FORCE
	@echo '$(SAN_FLAGS)' | cmp -s - $@ || echo '$(SAN_FLAGS)' > $@
FORCE:

# apxs names the module after the first source file: mod_polycom.c first.
GLUE_SRC = mod_polycom.c $(wildcard mod_polycom_*.c)

$(MODULE): $(GLUE_SRC) mod_polycom_private.h $(PURE_SRC) $(HEADERS) .build-flags
	$(APXS) -c -I include $(addprefix -Wc$(comma),$(WARN) $(SAN_FLAGS)) \
	    $(if $(SANITIZE),-Wl$(comma)-fsanitize=$(SANITIZE)) \
	    $(addprefix -Wl$(comma),$(MODULE_LDFLAGS)) \
	    $(XML_CFLAGS) $(XML_LIBS) -o mod_polycom.la $(GLUE_SRC) $(PURE_SRC)

# The pure parts compiled once, into one archive the unit tests and fuzz
# drivers link against: each of them used to compile every source again
# (22 tests and 8 drivers times 44 files, minutes of a CI run). The module
# is built from the sources by apxs, as libtool objects of its own.
PURE_OBJ = $(patsubst src/%.c,build/pure/%.o,$(PURE_SRC))
PURE_LIB = build/libpolycom_pure.a
build/pure/%.o: src/%.c $(HEADERS)
	@mkdir -p build/pure
	$(CC) $(WARN) $(APR_CFLAGS) $(XML_CFLAGS) -I include -c -o $@ $<
$(PURE_LIB): $(PURE_OBJ)
	rm -f $@
	ar rcs $@ $(PURE_OBJ)

t/unit/test_%: t/unit/test_%.c $(wildcard t/unit/*.h) $(PURE_LIB) $(HEADERS)
	$(CC) $(WARN) $(APR_CFLAGS) $(XML_CFLAGS) -I include -I t/unit -o $@ \
	    $< $(PURE_LIB) $(APR_LIBS) $(XML_LIBS) $(UNIT_LIBS)

# The fuzz targets, built without libFuzzer: `make test` runs each over its
# committed corpus and every crash found so far (t/fuzz/crashes/<target>).
t/fuzz/run_%: t/fuzz/fuzz_%.c t/fuzz/driver.c t/fuzz/fuzz.h $(PURE_LIB) $(HEADERS)
	$(CC) $(WARN) $(APR_CFLAGS) $(XML_CFLAGS) -I include -I t/fuzz -o $@ \
	    t/fuzz/driver.c $< $(PURE_LIB) $(APR_LIBS) $(XML_LIBS)

# Coverage-guided fuzzing with libFuzzer (clang), ASan and UBSan, each
# target for FUZZ_SECONDS; new inputs land in a scratch directory, a crash
# in t/fuzz/crashes/<target>/ (commit it: it becomes a regression test).
fuzz: build
	@sh tools/deps.sh fuzz
	@sh tools/fuzz.sh "$(CLANG)" "$(FUZZ_SECONDS)" "$(FUZZ_TARGETS)" \
	    "$(APR_CFLAGS) $(XML_CFLAGS)" "$(APR_LIBS) $(XML_LIBS)" "$(PURE_SRC)"

# The whole suite against a module built with AddressSanitizer and
# UndefinedBehaviorSanitizer (httpd itself runs with the runtime preloaded):
# any report fails the run. The normal module is rebuilt afterwards.
test-asan:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory SANITIZE=address,undefined build
	@HTTPD_WRAPPER=tools/asan-httpd.sh BACKENDS="$(BACKENDS)" \
	    sh tools/run-tests.sh $(APXS) $(PERL); \
	    status=$$?; $(MAKE) --no-print-directory build >/dev/null; exit $$status

# Performance: the module against static files of the same bytes, one
# httpd, wrk, interleaved rounds; prints ratios (bench/bench.py).
bench: build
	@sh tools/deps.sh bench
	@python3 bench/bench.py

# All the C unit tests, through t/unit.t as in the suite: a summary of the
# failures at the end, non-zero when any failed or a binary is missing.
unit: build
	@$(PERL) t/unit.t

# The demo needs the module only, not the tests.
run: deps
	@$(MAKE) --no-print-directory $(MODULE)
	@sh tools/run.sh

# The whole suite: C unit tests and Apache::Test against the real module,
# a real httpd and a real database: SQLite, then PostgreSQL and MariaDB
# servers started for the run (BACKENDS picks some). Green only on
# "Result: PASS".
BACKENDS ?= sqlite postgresql mariadb
test: build
	@sh tools/deps.sh test
	@$(PERL) t/TEST -clean >/dev/null
	@BACKENDS="$(BACKENDS)" sh tools/run-tests.sh $(APXS) $(PERL)

test-mysql:
	@$(MAKE) --no-print-directory test BACKENDS=mariadb

# The Debian package, libapache2-mod-polycom_<version>_<arch>.deb here,
# built with debhelper and dh_apache2 in a copy of the tree (build/deb) and
# checked with lintian (errors fail); the copy goes once it is built.
# `make test-deb` installs it into this machine's Apache, upgrades,
# removes and purges it (tools/test-deb.sh, which builds its older package
# in the same copy and then removes it).
deb:
	@sh tools/deps.sh deb
	@sh tools/build-deb.sh

test-deb:
	@sh tools/deps.sh deb
	@DEB_KEEP_SRC=1 sh tools/build-deb.sh
	@bash tools/test-deb.sh

# For developers: into this machine's Apache without a package (the
# package also creates the database and enables the module).
install: build
	$(APXS) -i -n polycom $(MODULE)
	install -m 644 conf/polycom.load /etc/apache2/mods-available/polycom.load
	install -m 644 conf/polycom.conf /etc/apache2/mods-available/polycom.conf
	install -d /usr/share/mod_polycom/sql /usr/share/mod_polycom/admin
	install -m 644 sql/*.sql /usr/share/mod_polycom/sql/
	install -m 644 admin-ui/* /usr/share/mod_polycom/admin/
	install -m 755 tools/polycom-dbupgrade /usr/local/sbin/polycom-dbupgrade

clean:
	-@[ -x "$$(command -v $(PERL))" ] && [ -f t/TEST ] && $(PERL) t/TEST -clean >/dev/null 2>&1 || true
	rm -rf .libs src/.libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o \
	    src/*.la $(UNIT) $(FUZZ_DRIVERS) t/fuzz/bin t/logs/* .build-flags \
	    build libapache2-mod-polycom_*.deb
