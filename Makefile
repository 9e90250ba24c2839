# silico — plain Makefile. `make demo` and `make test` are the two entry points.
#
#   make deps      install missing Debian packages (sudo when not root)
#   make           build build/silico, build/libsilico.{a,so}
#   make test      deps + build + the whole Criterion suite (+ float64 gradient checks)
#   make test-ref  regenerate the PyTorch golden tensors in a temp dir and compare
#   make demo      deps + build + both reach networks, their analyses and the comparison report
#   make examples  train every examples/*.ini at full size and tabulate the results
#   make bench     silico vs the PyTorch peer, one JSON line per comparison
#   make asan      the test suite under ASan+UBSan (clang)
#   make install   PREFIX=/usr/local: bin, lib, include, pkg-config, data
#                  (PREFIX=DIR BUILD=DIR/build builds that install apart from build/)

PREFIX  ?= /usr/local
CC      ?= cc
ARCH    ?= -march=native
OPT     ?= -O2
CFLAGS  ?= $(OPT) $(ARCH) -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-psabi
# silico never reads errno after a math call; without it loops over sqrt (Adam)
# vectorise. Kept out of CFLAGS so `make asan` and user CFLAGS keep it.
CODEGEN  = -fno-math-errno
CPPFLAGS = -D_GNU_SOURCE -Iinclude -Isrc -I/usr/include/openblas -DSILICO_DATADIR='"$(PREFIX)/share/silico"'
LIBS     = -lxsmm -lopenblas -llapacke -linih -lcjson -lmatio -lz -lm -lpthread -ldl
BUILD   ?= build

SRC      = $(sort $(wildcard src/core/*.c src/nn/*.c src/tasks/*.c src/train/*.c src/analysis/*.c src/report/*.c))
CLI_SRC  = $(sort $(wildcard src/cli/*.c))
TEST_SRC = $(sort $(wildcard tests/test_*.c))
F64_TEST_SRC = $(sort $(wildcard tests/f64/*.c))
HDR      = include/silico.h $(wildcard src/*/*.h)
# tests only: libpng and libxml2 check the figures' PNG and SVG (test_report.c)
TEST_LIBS = -lpng16 -lxml2
TEST_INC  = -I/usr/include/libxml2

OBJ      = $(SRC:%.c=$(BUILD)/obj/%.o)
PIC_OBJ  = $(SRC:%.c=$(BUILD)/pic/%.o)
F64_OBJ  = $(SRC:%.c=$(BUILD)/f64/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all deps test test-ref demo bench asan install clean examples FORCE

all: $(BUILD)/silico $(BUILD)/libsilico.a $(BUILD)/libsilico.so

deps:
	@scripts/deps.sh

# SILICO_DATADIR ($(PREFIX)/share/silico) is compiled into src/tasks/reach.c:
# recompile it whenever PREFIX differs from the one it was built with, so
# `make install PREFIX=DIR` never installs a binary looking elsewhere for data.
DATADIR_STAMP = $(BUILD)/datadir.stamp
$(DATADIR_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)/share/silico' | cmp -s - $@ || echo '$(PREFIX)/share/silico' > $@
$(BUILD)/obj/src/tasks/reach.o $(BUILD)/pic/src/tasks/reach.o $(BUILD)/f64/src/tasks/reach.o: $(DATADIR_STAMP)
FORCE:

$(BUILD)/obj/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	@echo "  CC -fPIC $<"
	@$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/f64/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	@echo "  CC f64  $<"
	@$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -DSL_REAL=double -c $< -o $@

$(BUILD)/libsilico.a: $(OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/libsilico_f64.a: $(F64_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/libsilico.so: $(PIC_OBJ)
	@echo "  LD      $@"
	@$(CC) -shared -Wl,-soname,libsilico.so.0 -o $@ $^ $(LIBS)

$(BUILD)/silico: $(CLI_OBJ) $(BUILD)/libsilico.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsilico.a $(LIBS)

# --- tests -----------------------------------------------------------------
$(BUILD)/tests/run: $(TEST_SRC) $(wildcard tests/*.h) $(BUILD)/libsilico.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -Itests $(TEST_INC) -o $@ $(TEST_SRC) $(BUILD)/libsilico.a -lcriterion $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/run_f64: $(F64_TEST_SRC) $(wildcard tests/*.h) $(BUILD)/libsilico_f64.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -DSL_REAL=double -Itests -o $@ $(F64_TEST_SRC) $(BUILD)/libsilico_f64.a -lcriterion $(LIBS)

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/run $(BUILD)/tests/run_f64
	@scripts/run-tests.sh $(BUILD)

test-ref: deps
	@SILICO_DEPS_EXTRA="python3-torch python3-scipy" scripts/deps.sh
	@$(MAKE) --no-print-directory all $(BUILD)/tests/run
	@scripts/test-ref.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD)

# every example experiment at full size, with a table of what each reached
examples: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-examples.sh $(BUILD)

BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/%,$(sort $(wildcard bench/bench_*.c)))

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bench/run.sh $(BUILD)

$(BUILD)/bench_%: bench/bench_%.c bench/bench_common.h $(BUILD)/libsilico.a
	$(CC) $(WARN) $(CODEGEN) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libsilico.a $(LIBS)

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT=-O1 ARCH= \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DSL_CHECK_INVARIANTS" \
	    build-asan/silico build-asan/tests/run build-asan/tests/run_f64
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp SILICO_BIN=build-asan/silico \
	    scripts/run-tests.sh build-asan

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/share/silico/data/reach $(DESTDIR)$(PREFIX)/share/silico/examples
	install -m 755 $(BUILD)/silico $(DESTDIR)$(PREFIX)/bin/silico
	install -m 644 $(BUILD)/libsilico.a $(DESTDIR)$(PREFIX)/lib/libsilico.a
	install -m 755 $(BUILD)/libsilico.so $(DESTDIR)$(PREFIX)/lib/libsilico.so.0
	ln -sf libsilico.so.0 $(DESTDIR)$(PREFIX)/lib/libsilico.so
	install -m 644 include/silico.h $(DESTDIR)$(PREFIX)/include/silico.h
	install -m 644 data/reach/*.npy data/reach/README.md $(DESTDIR)$(PREFIX)/share/silico/data/reach/
	install -m 644 examples/*.ini $(DESTDIR)$(PREFIX)/share/silico/examples/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define SILICO_VERSION "\(.*\)"/\1/p' include/silico.h)|g' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS)|g' silico.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/silico.pc

clean:
	rm -rf build build-asan
