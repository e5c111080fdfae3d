# ganglion — build, test, fuzz and bench.
#
#   make deps        install every dependency (Debian bookworm, apt-get)
#   make             build/libganglion.a and build/ganglion
#   make test        Criterion suite under ASan + UBSan (+ format check)
#   make fuzz        libFuzzer targets (clang)
#   make test-long   each fuzz target for FUZZ_SECONDS (default 60)
#   make bench       benchmarks (optimised, no sanitizers)
#   make format      / format-check   clang-format over our sources

SHELL     := /bin/bash
CC        ?= cc
CLANG     ?= clang
B         ?= build
PKGS      := libuv libwebsockets msgpack libsodium libxxhash jansson yaml-0.1
LLHTTP_SRC_DIR ?= /usr/share/llhttp
LLHTTP_INC_DIR ?= /usr/share/include/llhttp
FUZZ_SECONDS   ?= 60
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wundef -Wstrict-prototypes
ifneq ($(CI),)
WARN    += -Werror
endif
OPT     ?= -O2 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SAN),1)
OPT     := -O1 -g $(SAN_FLAGS)
endif
ifeq ($(SAN),thread)
SAN_FLAGS := -fsanitize=thread
OPT     := -O1 -g $(SAN_FLAGS)
endif

CPPFLAGS += -Iinclude -I$(LLHTTP_INC_DIR) -D_DEFAULT_SOURCE \
            -DGN_VERSION=\"$(VERSION)\"
CFLAGS   += -std=c17 $(OPT) $(WARN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(if $(SAN),$(SAN_FLAGS))
LDLIBS   += $(PKG_LIBS) -lm -ldl

LIB_SRC    := $(wildcard protocol/*.c) $(wildcard actors/*.c)
LLHTTP_SRC := $(addprefix $(LLHTTP_SRC_DIR)/,api.c http.c llhttp.c)
NODE_SRC   := $(wildcard node/*.c)
TEST_SRC   := $(wildcard tests/*/test_*.c) $(wildcard tests/support/*.c)
BENCH_SRC  := $(wildcard bench/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o) $(patsubst $(LLHTTP_SRC_DIR)/%.c,$(B)/llhttp/%.o,$(LLHTTP_SRC))
NODE_OBJ   := $(NODE_SRC:%.c=$(B)/%.o)
# The node's modules without main(): linked into the tests (config, roles).
NODE_LIB_OBJ := $(filter-out $(B)/node/main.o,$(NODE_OBJ))
TEST_OBJ   := $(TEST_SRC:%.c=$(B)/%.o)
LIB        := $(B)/libganglion.a
BIN        := $(B)/ganglion

.PHONY: all deps test test-tsan test-run fuzz test-long bench bench-chain bench-metagraph bench-deps bench-axon bench-dendrite oracle chain-metadata format format-check clean install
all: $(BIN)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(NODE_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(NODE_OBJ) $(LIB) $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# llhttp is generated C from Debian's node-llhttp: not our warnings to fix.
$(B)/llhttp/%.o: $(LLHTTP_SRC_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c17 $(OPT) -w -c -o $@ $<

# Tests find ../shared and the CLI through these two paths.
$(B)/tests/%.o: CPPFLAGS += -Itests -DGN_SOURCE_DIR=\"$(CURDIR)\" \
                            -DGN_BUILD_DIR=\"$(CURDIR)/$(B)\"
# Plugin fixtures (tests/fixtures/plugin_echo.c): their ganglion and jansson
# symbols resolve against the test binary, hence its -rdynamic.
PLUGIN_SO := $(addprefix $(B)/tests/fixtures/,plugin_echo.so plugin_nosym.so plugin_abi2.so)
$(B)/tests/fixtures/plugin_%.so: tests/fixtures/plugin_echo.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c17 -O1 -g $(WARN) $(PKG_CFLAGS) -fPIC -shared -o $@ $< \
	  $(if $(filter nosym,$*),-DNO_TABLE) $(if $(filter abi2,$*),-DABI=2)
# Validator plugin fixtures (tests/fixtures/vplugin_echo.c), the same three ways.
VPLUGIN_SO := $(addprefix $(B)/tests/fixtures/,vplugin_echo.so vplugin_nosym.so vplugin_abi2.so)
$(B)/tests/fixtures/vplugin_%.so: tests/fixtures/vplugin_echo.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c17 -O1 -g $(WARN) $(PKG_CFLAGS) -fPIC -shared -o $@ $< \
	  $(if $(filter nosym,$*),-DNO_TABLE) $(if $(filter abi2,$*),-DABI=2)
$(B)/tests/run: $(TEST_OBJ) $(NODE_LIB_OBJ) $(LIB) $(BIN) $(PLUGIN_SO) $(VPLUGIN_SO)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(TEST_OBJ) $(NODE_LIB_OBJ) $(LIB) $(LDLIBS) -lcriterion

deps:
	@bash deploy/deps.sh

# The oracle is installed and the local chain's metadata saved first, so
# the cross-check and chain tests have their peers.
test: format-check oracle chain-metadata
	@$(MAKE) --no-print-directory B=build/asan SAN=1 test-run

# The actor runtime's concurrent scenarios under ThreadSanitizer, in a plain
# program: Criterion's harness cannot run under TSan (Criterion issue #274).
TSAN_OBJ := $(B)/tests/actors/tsan_main.o $(B)/tests/support/actor_stress.o
$(B)/tests/tsan-actors: $(TSAN_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TSAN_OBJ) $(LIB) $(LDLIBS)
test-tsan:
	@$(MAKE) --no-print-directory B=build/tsan SAN=thread build/tsan/tests/tsan-actors
	TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/tsan-actors

# Criterion does not fail a test whose worker leaked: any LeakSanitizer report
# (only test workers check for leaks, see tests/support/lsan.c) fails the run.
test-run: $(B)/tests/run
	@set -o pipefail; ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  $(B)/tests/run -j2 --short-filename $(TEST_ARGS) 2>&1 | tee $(B)/tests/last.log
	@if grep -q "LeakSanitizer: detected memory leaks" $(B)/tests/last.log; then \
	  echo "test: a test leaked memory (LeakSanitizer report above)"; exit 1; fi

# ---- fuzzing (clang + libFuzzer) -------------------------------------
FUZZ_FLAGS := -std=c17 -O1 -g -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all -Iinclude -D_DEFAULT_SOURCE
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/fuzz_http: FUZZ_FLAGS += -I$(LLHTTP_INC_DIR) actors/http.c $(LLHTTP_SRC) $(shell pkg-config --cflags --libs libuv)
build/fuzz/fuzz_http: actors/http.c actors/http_internal.h
# the node's config parser (node/config.c) on libyaml
build/fuzz/fuzz_config: FUZZ_FLAGS += node/config.c $(shell pkg-config --cflags --libs yaml-0.1 libuv)
build/fuzz/fuzz_config: node/config.c node/config.h
fuzz: $(FUZZ_BIN)
build/fuzz/%: tests/fuzz/%.c $(wildcard protocol/*.c protocol/*.h include/ganglion/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) $(shell pkg-config --cflags libsodium libxxhash jansson msgpack) -o $@ $< \
	  $(wildcard protocol/*.c) $(shell pkg-config --libs libsodium libxxhash jansson msgpack) -lm

test-long: fuzz
	@set -e; for f in $(FUZZ_BIN); do \
	  n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  GANGLION_FUZZ_METADATA=$(SHARED)/vectors/metadata/subtensor-mainnet-spec219-v14.hex \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 \
	      -artifact_prefix=build/fuzz/$$n- build/fuzz/corpus/$$n tests/fuzz/corpus/seed-$$n \
	      2>&1 | tail -n 12; \
	done

# ---- benchmarks ------------------------------------------------------
# Each benchmark runs beside its named peer (polkadot-js from the oracle).
# bench/chain and bench/metagraph need the local chain behind
# bench/latency_proxy (a tool, not a benchmark): bench/chain.sh and
# bench/metagraph.sh run them (make bench-chain, make bench-metagraph).
# bench/axon.sh runs `ganglion axon` under wrk beside nginx and the verify
# rate, with inputs from bench/axon_gen (make bench-axon).
# bench/dendrite.sh runs bench/dendrite and the Python aiohttp peer against
# bench/dendrite_responder (make bench-dendrite).
BENCHES := $(filter-out chain metagraph latency_proxy axon_gen dendrite dendrite_responder,$(BENCH_SRC:bench/%.c=%))
bench: oracle
	@$(MAKE) --no-print-directory B=build/bench OPT="-O2 -g -DNDEBUG" \
	  $(BENCHES:%=build/bench/bench/%)
	@bash bench/run.sh build/bench build/oracle $(BENCHES)
	@$(MAKE) --no-print-directory bench-chain
	@$(MAKE) --no-print-directory bench-metagraph
	@$(MAKE) --no-print-directory bench-axon
	@$(MAKE) --no-print-directory bench-dendrite
bench-chain: chain-metadata
	@$(MAKE) --no-print-directory B=build/bench OPT="-O2 -g -DNDEBUG" \
	  build/bench/bench/chain build/bench/bench/latency_proxy
	@bash bench/chain.sh build/bench build/chain
bench-metagraph: chain-metadata
	@$(MAKE) --no-print-directory B=build/bench OPT="-O2 -g -DNDEBUG" \
	  build/bench/bench/metagraph build/bench/bench/latency_proxy
	@bash bench/metagraph.sh build/bench build/chain
bench-deps:
	@BENCH=1 bash deploy/deps.sh
bench-axon: bench-deps
	@$(MAKE) --no-print-directory B=build/bench OPT="-O2 -g -DNDEBUG" \
	  build/bench/ganglion build/bench/bench/axon_gen
	@bash bench/axon.sh build/bench
bench-dendrite: bench-deps
	@$(MAKE) --no-print-directory B=build/bench OPT="-O2 -g -DNDEBUG" \
	  build/bench/bench/dendrite build/bench/bench/dendrite_responder
	@bash bench/dendrite.sh build/bench
$(B)/bench/latency_proxy: $(B)/bench/latency_proxy.o
	$(CC) $(LDFLAGS) -o $@ $< $(LDLIBS)
$(B)/bench/%: $(B)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The oracle (../shared/oracle, read-only) copied into build/ and installed
# with npm ci; skipped with a message when ../shared or npm is missing.
SHARED ?= ../shared
oracle: build/oracle/.installed
build/oracle/.installed: $(wildcard $(SHARED)/oracle/package-lock.json)
	@if [ ! -f $(SHARED)/oracle/package-lock.json ]; then \
	  echo "oracle: skipped: $(SHARED)/oracle is missing"; \
	elif ! command -v npm >/dev/null; then \
	  echo "oracle: skipped: npm is missing (Node.js >= 20 with npm)"; \
	else \
	  mkdir -p build/oracle && cp -r $(SHARED)/oracle/. build/oracle/ && \
	  ln -sfn $(abspath $(SHARED))/vectors build/vectors && \
	  (cd build/oracle && npm ci --no-audit --no-fund --loglevel=error) && \
	  touch $@; \
	fi

chain-metadata:
	@bash tests/fixtures/chain-metadata.sh $(SHARED)

# ---- demo (deploy/demo.sh, docs/demo.md) ------------------------------
# The local network in one command: make deps only when a dependency is
# missing, the executable, the local chain in build/chain (installed as the
# chain-metadata step does), then the demo. Sub-makes, so a build after
# `make deps` sees the packages it installed.
.PHONY: demo
demo:
	@if ! pkg-config --exists $(PKGS) || [ ! -f $(LLHTTP_SRC_DIR)/llhttp.c ] || \
	    ! command -v node >/dev/null || ! command -v npm >/dev/null || \
	    ! command -v curl >/dev/null; then \
	  echo "demo: a dependency is missing: make deps"; $(MAKE) --no-print-directory deps; fi
	@$(MAKE) --no-print-directory $(BIN)
	@$(MAKE) --no-print-directory chain-metadata
	@if [ ! -d build/chain/node_modules/@acala-network/chopsticks ] && \
	    [ -f $(SHARED)/chain/package-lock.json ]; then \
	  echo "demo: installing the local chain into build/chain (npm ci)"; \
	  mkdir -p build/chain && cp -r $(SHARED)/chain/. build/chain/ && \
	  (cd build/chain && npm ci --no-audit --no-fund --loglevel=error); fi
	@GANGLION=$(CURDIR)/$(BIN) GANGLION_CHAIN_DIR=$(CURDIR)/build/chain bash deploy/demo.sh

# ---- install (deploy/Dockerfile, docs/deploy.md) ----------------------
# The executable, the example configs, the example worker and the docs
# under $(DESTDIR)$(PREFIX); deploy/ and tests/deploy build the runtime
# image's file system from it.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL_CONFIGS := $(wildcard config/*.yaml)
INSTALL_DOCS    := README.md $(wildcard docs/*.md)
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ganglion/config \
	  $(DESTDIR)$(PREFIX)/share/ganglion/examples $(DESTDIR)$(PREFIX)/share/doc/ganglion
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ganglion
	$(if $(INSTALL_CONFIGS),install -m 0644 $(INSTALL_CONFIGS) $(DESTDIR)$(PREFIX)/share/ganglion/config/)
	install -m 0644 examples/worker.py $(DESTDIR)$(PREFIX)/share/ganglion/examples/
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(PREFIX)/share/doc/ganglion/

# ---- style -----------------------------------------------------------
FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find include protocol actors node tests bench -name '*.[ch]')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	@if command -v clang-format >/dev/null; then \
	  clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: ok"; \
	else echo "format-check: skipped (clang-format not installed; make deps installs it)"; fi

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f -not -path '*/node_modules/*' 2>/dev/null)
