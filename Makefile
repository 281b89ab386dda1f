# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sockaudit: eBPF socket audit collector.  `make help` lists the targets.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

OUT      ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
# The kernel's name for this machine's architecture (bpf_tracing.h wants __TARGET_ARCH_<it>).
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' -e 's/aarch64.*/arm64/' \
		-e 's/arm.*/arm/' -e 's/ppc64.*/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/')

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Sanitizer build: `make ASAN=1` (what `make asan` does) into its own tree.
ifeq ($(ASAN),1)
OUT      := build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HARDEN   :=
else
SANFLAGS :=
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif

CFLAGS   ?= -g -O2
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Iuser -I$(OUT)
ALL_CFLAGS := $(CFLAGS) $(WARN) $(HARDEN) $(SANFLAGS) -MMD -MP
LDFLAGS  += -Wl,-z,relro -Wl,-z,now $(SANFLAGS)
LDLIBS   := -lbpf -lelf -lz -lpthread -lyaml -lhs -lpcre2-8 -lcrypto
# issue 17: capabilities after attach (libcap), sd_notify (libsystemd)
LDLIBS   += -lcap -lsystemd
# issue 18: /healthz and /metrics (libmicrohttpd)
LDLIBS   += -lmicrohttpd
# issue 19: the RELP client's TLS (OpenSSL libssl)
LDLIBS   += -lssl

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	      -Wno-unused-parameter -Wno-missing-field-initializers \
	      -Ivmlinux -Iinclude

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS  := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS  := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
LIB        := $(OUT)/libsockaudit.a
BIN        := $(OUT)/sockaudit
TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_BINS  := $(patsubst tests/%.c,$(OUT)/tests/%,$(TEST_SRCS))
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))

# Everything the build, the tests, the demo and the benchmark use.
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev \
	    pkg-config make gcc libc6-dev nginx-light curl python3 jq socat wrk \
	    openssl valgrind iproute2 procps bc libyaml-dev libhyperscan-dev libpcre2-dev libssl-dev
# issue 17: libcap (privileges after attach), libsystemd (sd_notify), systemd (systemd-analyze verify in tests)
DEB_PKGS += libcap-dev libsystemd-dev systemd
# issue 14: the MCP TypeScript SDK tests (tests/live/mcp-node) need Node and npm;
# issue 16: Node's HTTPS server for tests/live/test_tls_node.sh
# (npm comes with some nodejs builds; Debian's own is the npm package)
DEB_PKGS += nodejs
MCP_NODE := tests/live/mcp-node
# forward (issue 19): the RELP/TLS receiver and PostgreSQL the live tests and bench start
DEB_PKGS += rsyslog rsyslog-relp rsyslog-openssl rsyslog-pgsql postgresql

.PHONY: all deps test unit live demo bench vmlinux asan valgrind fuzz clean help fixtures \
	headers-check

all: $(BIN) ## build the collector (build/sockaudit)

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
		awk -F':.*## ' '{ printf "  %-10s %s\n", $$1, $$2 }'

deps: ## install what is missing (Debian packages; idempotent)
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| { echo "deps: apt-get install failed for: $$missing (run as root with Debian's archive reachable)"; exit 1; }; \
	fi
	@# issue 14: the MCP SDK pinned by $(MCP_NODE)/package-lock.json, installed once per lock
	@command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o DPkg::Lock::Timeout=600 --no-install-recommends npm >/dev/null \
		|| { echo "deps: npm missing and apt-get install npm failed"; exit 1; }
	@cmp -s $(MCP_NODE)/package-lock.json $(MCP_NODE)/node_modules/.installed-lock.json 2>/dev/null || \
		{ echo "deps: npm ci in $(MCP_NODE)"; cd $(MCP_NODE) && npm ci --no-audit --no-fund --loglevel=error >/dev/null \
		  && cp package-lock.json node_modules/.installed-lock.json; } \
		|| { echo "deps: npm ci failed in $(MCP_NODE) (the npm registry must be reachable)"; exit 1; }

vmlinux: ## regenerate vmlinux/vmlinux.h from the running kernel's BTF
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

$(OUT) $(OUT)/user $(OUT)/tests $(OUT)/fuzz:
	$(Q)mkdir -p $@

# BPF: clang -> bpftool gen object (static linking, strips dwarf noise) -> skeleton
$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) include/sockaudit/events.h vmlinux/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o)
	$(Q)rm -f $(@:.o=.tmp.o)

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $*)_bpf > $@

$(OUT)/user/%.o: user/%.c | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# Only the loaders include a BPF skeleton: nothing else waits for clang -target bpf.
$(OUT)/user/capture.o $(OUT)/user/tlsprobe.o: $(SKELS)

$(LIB): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(OUT)/user/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/%.c $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

# libFuzzer harnesses, with clang: every collector source instrumented into
# an archive of its own, so a harness links what it uses, whatever that is.
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined
FUZZ_OBJS  := $(patsubst user/%.c,$(OUT)/fuzz/obj/%.o,$(USER_SRCS))
FUZZ_LIB   := $(OUT)/fuzz/libsockaudit-fuzz.a
$(OUT)/fuzz/obj:
	$(Q)mkdir -p $@
$(OUT)/fuzz/obj/%.o: user/%.c | $(OUT)/fuzz/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(OUT)/fuzz/obj/capture.o $(OUT)/fuzz/obj/tlsprobe.o: $(SKELS)
$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) | $(OUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

# Every header compiles by itself (it includes what it uses, <stddef.h> for size_t...).
HEADERS := $(wildcard user/*.h include/sockaudit/*.h)
headers-check: $(SKELS) ## compile each header alone
	$(call msg,HDRS,$(words $(HEADERS)) headers)
	$(Q)for h in $(HEADERS); do \
		echo "#include \"$$h\"" | $(CC) $(CPPFLAGS) -I. $(WARN) -fsyntax-only -x c - \
			|| { echo "headers-check: $$h does not compile alone"; exit 1; }; \
	done

unit: $(TEST_BINS) ## run the cmocka unit tests
	@fail=0; for t in $(TEST_BINS); do $$t || fail=1; done; exit $$fail

live: $(BIN) $(OUT)/bench/gen_events ## run the live tests (real programs under the collector; root)
	@SOCKAUDIT=$(abspath $(BIN)) tests/live/run.sh

# Every test once: the unit tests of the release build and of the ASan/UBSan
# build, valgrind beside the fuzzers, the replay tests, then the live tests
# against the ASan/UBSan collector (a memory error under real traffic fails
# the test that caused it). The live tests ran a second time against the
# release binary until the suite outgrew 15 minutes on two cores; `make live`
# still runs them against it. The closing "N passed, N failed, N skipped"
# line ends the output.
test: deps ## install, build, run every test (unit, asan, valgrind, fuzz, replay, live)
	$(Q)$(MAKE) --no-print-directory all $(TEST_BINS) $(OUT)/bench/gen_events headers-check
	$(Q)$(MAKE) --no-print-directory ASAN=1 all $(subst $(OUT)/,build-asan/,$(TEST_BINS)) build-asan/bench/gen_events \
		> build-asan.log 2>&1 || { tail -n 60 build-asan.log; echo "asan build: FAILED (build-asan.log)"; exit 1; }
	@rm -f build-asan.log
	@# valgrind and the fuzzers are single-threaded: side by side on two cores
	$(Q)$(MAKE) --no-print-directory valgrind > $(OUT)/valgrind.log 2>&1 & vg=$$!; \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-6}; fz=$$?; \
		wait $$vg; vr=$$?; cat $(OUT)/valgrind.log; [ $$fz = 0 ] && [ $$vr = 0 ]
	$(Q)SOCKAUDIT=$(abspath build-asan/sockaudit)\
		tests/run-all.sh $(TEST_BINS) $(subst $(OUT)/,build-asan/,$(TEST_BINS))

asan: deps ## build with ASan/UBSan and run the unit and live tests
	$(Q)$(MAKE) --no-print-directory ASAN=1 all unit live > build-asan.log 2>&1 \
		|| { tail -n 60 build-asan.log; echo "asan: FAILED (build-asan.log)"; exit 1; }
	@grep '^live:' build-asan.log | sed 's/^/asan /'; rm -f build-asan.log

valgrind: $(TEST_BINS) ## run the unit tests under valgrind
	@fail=0; for t in $(TEST_BINS); do \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite $$t >/dev/null 2>&1 \
			|| { echo "valgrind: $$t FAILED"; fail=1; }; \
	done; [ $$fail = 0 ] && echo "valgrind: $(words $(TEST_BINS)) unit test binaries clean"; exit $$fail

# New inputs go to build/fuzz/corpus-*, the committed seeds stay as they are.
fuzz: $(FUZZ_BINS) ## build the fuzz harnesses and run each briefly (FUZZ_SECONDS=20)
	@for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p $(OUT)/fuzz/corpus-$$n; \
		echo "fuzz: $$n for $${FUZZ_SECONDS:-20}s"; \
		$$f -max_total_time=$${FUZZ_SECONDS:-20} -rss_limit_mb=1024 \
			$(OUT)/fuzz/corpus-$$n tests/fuzz/corpus/$$n > $(OUT)/fuzz/$$n.log 2>&1 \
			|| { tail -n 30 $(OUT)/fuzz/$$n.log; echo "fuzz: $$n FAILED"; exit 1; }; \
		tail -n 1 $(OUT)/fuzz/$$n.log; \
	done

# Recorded from the live tests; tests/replay/run.sh replays them without BPF.
FIXTURE_TESTS := test_jsonrpc_socket test_mcp_stdio test_mcp_http_sse test_http_edges \
	test_mcp_node_sdk test_mcp_socket_hosts \
		 test_syscall_variants test_unix_and_children test_redact_every_text test_tls_node
fixtures: $(BIN) ## re-record tests/fixtures from the live tests (root)
	@# record refuses an existing event file a checkout left 0644: they are made anew
	$(Q)rm -f $(foreach t,$(FIXTURE_TESTS),tests/fixtures/$(t)-*.rec)
	$(Q)SOCKAUDIT=$(abspath $(BIN)) SA_FIXTURE_DIR=$(abspath tests/fixtures) \
		tests/live/run.sh $(addprefix tests/live/,$(addsuffix .sh,$(FIXTURE_TESTS)))

demo: deps all ## run the bundled demo workload under the collector
	$(Q)SOCKAUDIT=$(abspath $(BIN)) demo/run.sh

# Every benchmark; each prints its own table (docs/benchmarks.md explains them).
bench: deps all $(OUT)/bench/gen_events $(OUT)/bench/format_bench $(OUT)/bench/writer_rate $(OUT)/bench/chain_bench $(OUT)/bench/observe_cost $(OUT)/bench/uprobe_cost $(OUT)/bench/capture_loop ## all benchmarks: nginx ratio, memory, writer, formats
	@echo "== nginx under wrk: traced / untraced (bench/nginx_wrk.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/nginx_wrk.sh
	@echo "== the capture's own CPU time per request, from bpf_stats (bench/bpf_cost.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/bpf_cost.sh
	@echo "== the capture's BPF time per exchange, one unpreempted process (bench/capture_loop.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) LOOP=$(abspath $(OUT)/bench/capture_loop) bench/capture_loop.sh
	@echo "== nginx HTTPS and TLS hooks under wrk: traced / untraced (bench/nginx_tls.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) UPROBE_COST=$(abspath $(OUT)/bench/uprobe_cost) bench/nginx_tls.sh
	@echo "== memory with unanswered requests and 10k connections (bench/memory.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) GEN=$(abspath $(OUT)/bench/gen_events) bench/memory.sh
	@echo "== the writer alone: records/s per flush mode (bench/writer_rate.c)"
	$(Q)d=$$(mktemp -d /var/tmp/sockaudit-wr.XXXXXX) && $(OUT)/bench/writer_rate $$d; rm -rf $$d
	@echo "== records/s per flush mode through replay (bench/writer_bench.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/writer_bench.sh
	@echo "== a --cgroup selector: cost for processes not audited (bench/selectors.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/selectors.sh
	@echo "== sanitize + redact + format (bench/format_bench.c)"
	$(Q)$(OUT)/bench/format_bench $${BENCH_SECONDS:-1}
	@echo "== sockaudit search vs jq, same filter, same file (bench/search_bench.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/search_bench.sh
	@echo "== the integrity chain alone: seal and verify ns per record (bench/chain_bench.c)"
	$(Q)d=$$(mktemp -d $${TMPDIR:-/var/tmp}/sockaudit-chain.XXXXXX) && \
		$(OUT)/bench/chain_bench $$d $${CHAIN_MB:-64}; rm -rf $$d
	@echo "== collector CPU per exchange, replay of a recorded nginx run (bench/replay_cost.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/replay_cost.sh
	@echo "== /healthz latency at full load; nginx ratio, endpoint off and on (bench/health_latency.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/health_latency.sh
	@echo "== what the observer costs the reader per drain cycle (bench/observe_cost.c)"
	$(Q)d=$$(mktemp -d /var/tmp/sockaudit-oc.XXXXXX) && for n in 1 8 32; do $(OUT)/bench/observe_cost $$d $$n; done; rm -rf $$d
	@echo "== forward: records/s shipped over RELP/TLS to a local rsyslog (bench/forward_bench.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/forward_bench.sh

clean: ## remove build trees
	rm -rf build build-asan

-include $(wildcard $(OUT)/user/*.d $(OUT)/tests/*.d $(OUT)/fuzz/obj/*.d)

# ---- issue 4: sanitize, redact, formats ----

# issue 3 per-target flags: mocks for syscalls that must fail on demand
$(OUT)/tests/test_outpath: LDFLAGS += -Wl,--wrap=syscall
$(OUT)/tests/test_sink: LDFLAGS += -Wl,--wrap=writev -Wl,--wrap=fstatvfs -Wl,--wrap=fdatasync

# Formatting throughput (sanitize + redact + format, MB/s and ns/record) and
# Hyperscan against PCRE2-JIT. Separate from `make bench`, which needs nginx.
$(OUT)/bench:
	$(Q)mkdir -p $@

# Every bench program: one C file against the library.
$(OUT)/bench/%: bench/%.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

.PHONY: bench-format
bench-format: $(OUT)/bench/format_bench ## sanitize+redact+format MB/s, ns/record; Hyperscan vs PCRE2-JIT
	$(Q)$(OUT)/bench/format_bench $${BENCH_SECONDS:-1}

# Synthetic raw event files for memory and scale runs (bench/memory.sh): bench/gen_events.c.

# issue 6: the verifier's test makes the writer's writev fail on demand
$(OUT)/tests/test_verify: LDFLAGS += -Wl,--wrap=writev

# the chain state's saver on a file system without RENAME_EXCHANGE
$(OUT)/tests/test_chain: LDFLAGS += -Wl,--wrap=renameat2

# issue 6: the chain's cost on the writer thread, then verify MB/s and peak RSS
# on the chained log it leaves (INTEGRITY_MB, default 1024; on /var/tmp): bench/chain_bench.c.

.PHONY: bench-integrity
bench-integrity: $(OUT)/bench/chain_bench $(BIN) ## writer records/s with and without the chain; verify MB/s and RSS
	$(Q)d=$$(mktemp -d $${TMPDIR:-/var/tmp}/sockaudit-ibench.XXXXXX); \
	$(OUT)/bench/chain_bench $$d $${INTEGRITY_MB:-1024} && \
	/usr/bin/time -f 'verify peak RSS: %M KiB' $(BIN) verify --key $$d/bench.key $$d/bench.chained; \
	rm -rf $$d

# The writer alone, records/s per flush mode: bench/writer_rate.c.

# ---- issue 17: install as a system service ----
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, a default config
# (root 0600), the log directory (0700), the systemd unit, the man page
# (roff written from docs/operations.md by dist/md2man.py).
PREFIX     ?= /usr/local
SBINDIR    := $(PREFIX)/sbin
MANDIR     := $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
LOGDIR     ?= /var/log/sockaudit

$(OUT)/sockaudit.8: docs/operations.md dist/md2man.py | $(OUT)
	$(call msg,MAN,$@)
	$(Q)python3 dist/md2man.py docs/operations.md > $@

.PHONY: install uninstall man
man: $(OUT)/sockaudit.8 ## the man page sockaudit.8 (roff) from docs/operations.md

install: $(BIN) $(OUT)/sockaudit.8 ## install the collector, config, unit, man page (PREFIX, DESTDIR)
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/sockaudit
	install -m 0644 $(OUT)/sockaudit.8 $(DESTDIR)$(MANDIR)/man8/sockaudit.8
	@# the unit names the installed paths (made here: PREFIX may differ between installs)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/sockaudit.service.in > $(DESTDIR)$(UNITDIR)/sockaudit.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sockaudit.service
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/sockaudit $(DESTDIR)$(LOGDIR)
	@# an edited config is never overwritten
	[ -e $(DESTDIR)$(SYSCONFDIR)/sockaudit/sockaudit.yaml ] || \
		install -m 0600 dist/sockaudit.yaml $(DESTDIR)$(SYSCONFDIR)/sockaudit/sockaudit.yaml
	@if [ "$$(id -u)" = 0 ]; then chown -R root:root $(DESTDIR)$(SYSCONFDIR)/sockaudit $(DESTDIR)$(LOGDIR); fi

uninstall: ## remove what install put in place (the config and the logs stay)
	rm -f $(DESTDIR)$(SBINDIR)/sockaudit $(DESTDIR)$(MANDIR)/man8/sockaudit.8 \
		$(DESTDIR)$(UNITDIR)/sockaudit.service
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/sockaudit and $(DESTDIR)$(LOGDIR) (the config and the audit logs): remove them by hand"
# ---- issue 20: search and report ----
# the percentile test draws log-uniform latencies (exp)
$(OUT)/tests/test_search: LDLIBS += -lm
# headless Chromium opens the report --html page in tests/live/test_report_html.sh
DEB_PKGS += chromium

.PHONY: bench-search
bench-search: $(BIN) ## sockaudit search vs jq: MB/s with the same filter on the same file (SEARCH_MB)
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/search_bench.sh

# ---- issue 18: health and Prometheus metrics ----
# libmicrohttpd serves /healthz and /metrics; prometheus (and its promtool)
# scrapes the collector in tests/live/test_metrics_prometheus.sh.
DEB_PKGS += libmicrohttpd-dev prometheus

# issue 18: what the observer costs the reader per drain cycle (make bench)
$(OUT)/bench/observe_cost: bench/observe_cost.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# issue 16: what one TLS uprobe hit costs (bench/nginx_tls.sh). Not linked with
# libssl: it exports its own SSL_write/SSL_read/SSL_free for the collector to probe.
$(OUT)/bench/uprobe_cost: bench/uprobe_cost.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -rdynamic $< -o $@
