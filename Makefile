# dafs — top-level build. `make` builds everything into build/; `make test` and
# `make run` first install what is missing (scripts/install-deps), so a fresh
# Debian 12 machine needs nothing by hand.
#
# SAN=1 builds the same tree with AddressSanitizer and UBSan into build-asan/.

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
B       := build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
B       := build
SANFLAGS :=
endif

# ---- Lock checks and ThreadSanitizer ------------------------------------
# Sanitizer builds also check the session lock: DAFS_DEBUG_LOCKS makes it
# error-checking and asserts it is held where client.h says "Session
# locked" (session_lock.c). TSAN=1 builds the tree with ThreadSanitizer
# into build-tsan/ (`make tsan` builds it and runs the threaded tests).
TSAN    ?= 0
ifeq ($(TSAN),1)
B       := build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif
ifneq ($(SAN)$(TSAN),00)
SANFLAGS += -DDAFS_DEBUG_LOCKS
endif

PKGS        = libfabric liburing jemalloc libunwind libsodium libsystemd
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS))
WARN        = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter
CFLAGS_ALL  = -std=gnu11 -D_GNU_SOURCE -O2 -g -fPIC -MMD -MP $(WARN) $(SANFLAGS) $(CPPFLAGS) \
              $(INC) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
CORE_LIBS   = $(shell pkg-config --libs libfabric libsodium) -lpthread
SERVER_LIBS = $(shell pkg-config --libs libfabric liburing jemalloc libunwind libsodium libsystemd) -lpthread

# What client and server share (wire format, transport, doorbells): one
# static library linked into both.
COMMON_SRC  := $(wildcard common/*.c)
COMMON_OBJ  := $(COMMON_SRC:%.c=$(B)/%.o)
COMMON_LIB  := $(B)/libdafs-common.a
CORE_SRC    := $(wildcard libdafs-core/*.c)
CORE_OBJ    := $(CORE_SRC:%.c=$(B)/%.o)
SERVER_SRC  := $(wildcard server/*.c)
SERVER_OBJ  := $(SERVER_SRC:%.c=$(B)/%.o)
SERVER_LIB_OBJ := $(filter-out $(B)/server/main.o,$(SERVER_OBJ))
COMMON_TESTS := $(patsubst common/tests/%.c,$(B)/tests/common_%,$(wildcard common/tests/test_*.c))
CORE_TESTS  := $(patsubst libdafs-core/tests/%.c,$(B)/tests/core_%,$(wildcard libdafs-core/tests/test_*.c))
SERVER_TESTS := $(patsubst server/tests/%.c,$(B)/tests/server_%,$(wildcard server/tests/test_*.c))

# Include paths per target: each part sees common/ and its own headers; the
# server never sees the client's, programs see only the public dafs.h.
$(B)/common/%.o:       INC = -Icommon
$(B)/libdafs-core/%.o: INC = -Icommon -Ilibdafs-core
$(B)/server/%.o:       INC = -Icommon -Iserver
$(B)/shim/%.o:         INC = -Ilibdafs-core
$(B)/tools/%.o:        INC = -Ilibdafs-core
$(B)/tests/common_%:   INC = -Icommon -Icommon/tests
$(B)/tests/core_%:     INC = -Icommon -Ilibdafs-core -Icommon/tests
# The server's replay and hostile-input tests drive it through the client's
# internals (resending a slot, raw frames).
$(B)/tests/server_%:   INC = -Icommon -Iserver -Ilibdafs-core -Icommon/tests
TOOLS       := $(B)/dafs $(B)/dafs-locktest $(B)/preadloop $(B)/dafsctl $(B)/dafs-limittest
# The benchmark's programs (scripts/bench); built with everything else so
# that make test can check the benchmark harness (bats/bench.bats).
BENCH_TOOLS := $(B)/bench-core $(B)/bench-stall $(B)/bench-read $(B)/bench-mkdata \
               $(B)/bench-bdb $(B)/bench-nfs-read
SHIM_SRC    := $(wildcard shim/*.c)
SHIM_OBJ    := $(SHIM_SRC:%.c=$(B)/%.o)
SHIM        := $(if $(SHIM_SRC),$(B)/libdafsshim.so)

.PHONY: all deps run test unit bench fuzz clean man install deb
all: $(B)/libdafs-core.so $(B)/dafs-server $(TOOLS) $(BENCH_TOOLS) $(B)/dafs-core.pc $(SHIM)

deps:
	@scripts/install-deps

# Each object depends on the headers it includes (-MMD writes the list).
-include $(shell find $(B) -name '*.d' 2>/dev/null)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(COMMON_LIB): $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $^

# It exports dafs.h's functions alone (the version script says why).
CORE_MAP    := libdafs-core/libdafs-core.map
$(B)/libdafs-core.so: $(CORE_OBJ) $(COMMON_LIB) $(CORE_MAP)
	$(CC) -shared -Wl,-soname,libdafs-core.so.0 -Wl,--version-script,$(CORE_MAP) \
	  $(LDFLAGS_ALL) -o $@.0 $(CORE_OBJ) $(COMMON_LIB) $(CORE_LIBS)
	ln -sf libdafs-core.so.0 $@

$(B)/dafs-core.pc: libdafs-core/dafs-core.pc.in
	sed -e 's|@PREFIX@|$(abspath $(B))|' -e 's|@INCLUDEDIR@|$(abspath libdafs-core)|' $< > $@

$(B)/dafs-server: $(SERVER_OBJ) $(COMMON_LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SERVER_LIBS)

# RPATH: the tree's dafs finds the library beside it; make deb empties it.
RPATH       ?= -Wl,-rpath,'$$ORIGIN'
$(B)/dafs: $(B)/tools/dafs.o $(B)/libdafs-core.so
	$(CC) $(LDFLAGS_ALL) -o $@ $< -L$(B) -l:libdafs-core.so $(RPATH) $(CORE_LIBS)

# The shim loads libdafs-core (and so libfabric) only when a program first
# touches the mount prefix: it links against libc and libdl alone. It
# exports the calls it wraps and nothing else: its objects are compiled
# hidden, and intercept.h marks each wrapper SHIM_EXPORT.
$(SHIM_OBJ): CFLAGS_ALL += -fvisibility=hidden
$(B)/libdafsshim.so: $(SHIM_OBJ)
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $^ -ldl -lpthread

$(B)/dafs-locktest: $(B)/tools/dafs-locktest.o $(B)/libdafs-core.so
	$(CC) $(LDFLAGS_ALL) -o $@ $< -L$(B) -l:libdafs-core.so -Wl,-rpath,'$$ORIGIN' $(CORE_LIBS)

# The administrator's tool speaks one line over a UNIX socket: nothing of ours.
$(B)/dafsctl: $(B)/tools/dafsctl.o
	$(CC) $(LDFLAGS_ALL) -o $@ $<

$(B)/dafs-limittest: $(B)/tools/dafs-limittest.o $(B)/libdafs-core.so
	$(CC) $(LDFLAGS_ALL) -o $@ $< -L$(B) -l:libdafs-core.so -Wl,-rpath,'$$ORIGIN' $(CORE_LIBS)

# The shim overhead benchmark's local pread loop links nothing of ours.
$(B)/preadloop: $(B)/tools/preadloop.o
	$(CC) $(LDFLAGS_ALL) -o $@ $<

$(B)/tests/common_%: common/tests/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(COMMON_LIB) $(CORE_LIBS)

$(B)/tests/core_%: libdafs-core/tests/%.c $(CORE_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(CORE_OBJ) $(COMMON_LIB) $(CORE_LIBS)

$(B)/tests/server_%: server/tests/%.c $(SERVER_LIB_OBJ) $(CORE_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(SERVER_LIB_OBJ) $(CORE_OBJ) $(COMMON_LIB) $(SERVER_LIBS)

unit: $(COMMON_TESTS) $(CORE_TESTS) $(SERVER_TESTS)

# The decoder fuzz target needs clang's libFuzzer; it is its own build.
FUZZ_SECONDS ?= 60
$(B)/fuzz_decode: common/tests/fuzz_decode.c common/proto.c common/proto.h common/auth.c common/auth.h
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -Icommon $(WARN) \
	  -fsanitize=fuzzer,address,undefined -o $@ common/tests/fuzz_decode.c common/proto.c \
	  common/auth.c $$(pkg-config --cflags --libs libsodium)

fuzz: deps
	@$(MAKE) --no-print-directory $(B)/fuzz_decode
	@mkdir -p $(B)/fuzz-corpus
	$(B)/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=70000 $(B)/fuzz-corpus common/tests/fuzz-seeds

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# The three trees build with a job per core (BUILD_JOBS): a minute or two
# less of a clean clone's `make test`.
BUILD_JOBS ?= $(shell nproc)
test: deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) all unit
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) SAN=1 all unit
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) tsan-build
	@$(MAKE) --no-print-directory build/fuzz_decode
	@scripts/run-tests

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench

$(B)/bench-core: INC = -Ilibdafs-core
$(B)/bench-core: tools/bench-core.c $(B)/libdafs-core.so
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -L$(B) -l:libdafs-core.so -Wl,-rpath,'$$ORIGIN' $(CORE_LIBS)

# scripts/bench-restart's reader: QD1 reads through a server restart.
$(B)/bench-stall: INC = -Ilibdafs-core
$(B)/bench-stall: tools/bench-stall.c $(B)/libdafs-core.so
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -L$(B) -l:libdafs-core.so -Wl,-rpath,'$$ORIGIN' $(CORE_LIBS)

# Plain POSIX programs: they run unchanged on local files and under the shim.
$(B)/bench-read $(B)/bench-mkdata: $(B)/%: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $<

# Debian's Berkeley DB 5.3 (libdb5.3-dev), as any application would link it.
$(B)/bench-bdb: tools/bench-bdb.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -ldb-5.3

# The NFS peer's reader: Debian's libnfs (libnfs-dev), a user-space NFS client.
$(B)/bench-nfs-read: tools/bench-nfs-read.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -lnfs

clean:
	rm -rf build build-asan

# ---- The shim's test programs ------------------------------------------------
# Ordinary programs that bats/shim_*.bats run under the shim (and once on a
# local directory to compare): shim/tests/*.c and streams.cc, built into
# $(B)/shim-tests/ with the project's flags, and in build-asan with the
# sanitizers (the suites then preload the sanitizer runtimes ahead of the
# shim: bats/shim_helpers.bash, SHIM_RUNTIME). They link nothing of ours.
# Built by `unit`, with the other test programs.
SHIM_TEST_C    := $(wildcard shim/tests/*.c)
SHIM_TESTS     := $(SHIM_TEST_C:shim/tests/%.c=$(B)/shim-tests/%) $(B)/shim-tests/aio_demo64 \
                  $(B)/shim-tests/streams
unit: $(SHIM_TESTS)

$(B)/shim-tests/%:            INC = -Ishim/tests
$(B)/shim-tests/aio_demo:     SHIM_TEST_LIBS = -pthread
$(B)/shim-tests/aio_demo64:   SHIM_TEST_LIBS = -pthread
$(B)/shim-tests/libaio_demo:  SHIM_TEST_LIBS = -laio
$(B)/shim-tests/umask_modes:  SHIM_TEST_LIBS = -pthread
# route_walk checks its list of calls against the shim's own table.
$(B)/shim-tests/route_walk:   INC = -Ishim/tests -Ishim

$(B)/shim-tests/%: shim/tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(SHIM_TEST_LIBS)

# The same program with the aio_*64 names.
$(B)/shim-tests/aio_demo64: shim/tests/aio_demo.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -D_FILE_OFFSET_BITS=64 $(LDFLAGS_ALL) -o $@ $< $(SHIM_TEST_LIBS)

$(B)/shim-tests/streams: shim/tests/streams.cc
	@mkdir -p $(dir $@)
	$(CXX) -std=gnu++17 -O2 -g -MMD -MP -Wall -Wextra -Werror $(SANFLAGS) $(LDFLAGS_ALL) -o $@ $<

# ThreadSanitizer: the unit tests (all of them use threads: every session has
# its lease thread) and the dafs-server they start, built into build-tsan/;
# scripts/tsan-test fails on a report from any of those processes. Two to three
# and a half minutes on two cores, build included; `make test` runs it too.
.PHONY: tsan tsan-build clean-tsan
tsan-build:
	@$(MAKE) --no-print-directory TSAN=1 build-tsan/dafs-server unit
tsan: deps
	@$(MAKE) --no-print-directory tsan-build
	@scripts/tsan-test build-tsan/tests/*
clean: clean-tsan
clean-tsan:
	rm -rf build-tsan

# ---- Man pages, installing, Debian packages ----------------------------------
# `make man` turns man/*.scd into roff with scdoc, into $(B)/man/. `make install`
# installs what the packages hold (PREFIX, DESTDIR, LIBDIR, ... as usual); the
# Debian packages are built from it (debian/rules, with RPATH= so that the
# installed dafs has no RUNPATH: `make install RPATH=` after `make clean` does
# the same by hand). `make deb` builds them from
# a copy of the tree in build-deb/src (dpkg-buildpackage writes next to the
# tree it builds) and leaves the .debs, and lintian's report, in build-deb/.
MAN_SRC     := $(wildcard man/*.scd)
MAN_PAGES   := $(MAN_SRC:man/%.scd=$(B)/man/%)
man: $(MAN_PAGES)
# bats/dist.bats renders them (man -l); make test builds `unit`.
unit: $(MAN_PAGES)
$(B)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install

install: $(B)/libdafs-core.so $(B)/dafs-server $(B)/dafsctl $(B)/dafs $(SHIM) $(MAN_PAGES)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/dafs \
	  $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(SYSCONFDIR)/dafs \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	$(INSTALL) -m 755 $(B)/dafs-server $(DESTDIR)$(SBINDIR)/dafs-server
	$(INSTALL) -m 755 $(B)/dafsctl $(DESTDIR)$(SBINDIR)/dafsctl
	$(INSTALL) -m 755 $(B)/dafs $(DESTDIR)$(BINDIR)/dafs
	sed -e 's|^shim=.*|shim=$(LIBDIR)/dafs/libdafsshim.so|' \
	    -e 's|^server_bin=.*|server_bin=$(SBINDIR)/dafs-server|' \
	    -e 's|^dafs_bin=.*|dafs_bin=$(BINDIR)/dafs|' \
	    -e 's|^root=.*|root=|' -e 's|^build=.*|build=|' \
	    -e '/^case $$build in/d' scripts/dafs-run > $(DESTDIR)$(BINDIR)/dafs-run
	chmod 755 $(DESTDIR)$(BINDIR)/dafs-run
	$(INSTALL) -m 644 $(B)/libdafs-core.so.0 $(DESTDIR)$(LIBDIR)/libdafs-core.so.0
	ln -sf libdafs-core.so.0 $(DESTDIR)$(LIBDIR)/libdafs-core.so
	$(INSTALL) -m 644 $(B)/libdafsshim.so $(DESTDIR)$(LIBDIR)/dafs/libdafsshim.so
	$(INSTALL) -m 644 libdafs-core/dafs.h $(DESTDIR)$(INCLUDEDIR)/dafs.h
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' -e 's|^libdir=.*|libdir=$(LIBDIR)|' \
	    -e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' \
	    -e 's|^Libs:.*|Libs: -L$${libdir} -ldafs-core|' \
	    libdafs-core/dafs-core.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/dafs-core.pc
	$(INSTALL) -m 644 dist/dafs-server.conf $(DESTDIR)$(SYSCONFDIR)/dafs/dafs-server.conf
	sed -e 's|/usr/sbin/dafs-server|$(SBINDIR)/dafs-server|' dist/dafs-server@.service \
	  > $(DESTDIR)$(UNITDIR)/dafs-server@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/dafs-server@.service
	for c in dafs dafs-run dafs-server; do \
	  $(INSTALL) -m 644 dist/completion/$$c $(DESTDIR)$(COMPLETIONDIR)/$$c; done
	for p in $(MAN_PAGES); do s=$${p##*.}; \
	  $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s; \
	  $(INSTALL) -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/; done

deb:
	@scripts/install-deps
	rm -rf build-deb
	mkdir -p build-deb/src
	rsync -a --exclude='/build*' --exclude=.git ./ build-deb/src/
	cd build-deb/src && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
	  { tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error build-deb/*.changes | tee build-deb/lintian.txt
	@ls build-deb/*.deb
clean: clean-deb
clean-deb:
	rm -rf build-deb
