# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sockaudit: eBPF socket audit collector.  `make help` lists the targets.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

OUT      ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := x86

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
LDLIBS   := -lbpf -lelf -lz -lpthread -lyaml -lhs -lpcre2-8 -lcrypto -lssl

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
# forward (issue 19): the RELP/TLS receiver and PostgreSQL the live tests and bench start
DEB_PKGS += rsyslog rsyslog-relp rsyslog-openssl rsyslog-pgsql postgresql

.PHONY: all deps test unit live demo bench vmlinux asan valgrind fuzz clean help fixtures

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

$(OUT)/user/%.o: user/%.c $(SKELS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(OUT)/user/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/%.c $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

# libFuzzer harnesses: built from the parser and encoder sources, with clang.
FUZZ_DEPS := user/http.c user/json.c user/log.c user/sanitize.c user/redact.c user/format.c \
	     user/format_json.c user/format_cef.c user/format_syslog.c user/format_line.c \
	     user/format_csv.c user/correlate.c user/conntrack.c user/jsonrpc.c \
	     user/chain.c user/chainfile.c user/verify.c user/outpath.c
$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_DEPS) | $(OUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined $< $(FUZZ_DEPS) -o $@

unit: $(TEST_BINS) ## run the cmocka unit tests
	@fail=0; for t in $(TEST_BINS); do $$t || fail=1; done; exit $$fail

live: $(BIN) $(OUT)/bench/gen_events ## run the live tests (real programs under the collector; root)
	@SOCKAUDIT=$(abspath $(BIN)) tests/live/run.sh

# Sanitizer, valgrind and fuzz runs first; the unit and live run last, so
# its closing "N passed, N failed, N skipped" line ends the output.
test: deps ## install, build, run every test (asan, valgrind, fuzz, unit, live)
	$(Q)$(MAKE) --no-print-directory all $(TEST_BINS) $(OUT)/bench/gen_events
	$(Q)$(MAKE) --no-print-directory asan
	@# valgrind and the fuzzers are single-threaded: side by side on two cores
	$(Q)$(MAKE) --no-print-directory valgrind > $(OUT)/valgrind.log 2>&1 & vg=$$!; \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-6}; fz=$$?; \
		wait $$vg; vr=$$?; cat $(OUT)/valgrind.log; [ $$fz = 0 ] && [ $$vr = 0 ]
	$(Q)SOCKAUDIT=$(abspath $(BIN)) tests/run-all.sh $(TEST_BINS)

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
		 test_syscall_variants test_unix_and_children test_redact_every_text
fixtures: $(BIN) ## re-record tests/fixtures from the live tests (root)
	$(Q)SOCKAUDIT=$(abspath $(BIN)) SA_FIXTURE_DIR=$(abspath tests/fixtures) \
		tests/live/run.sh $(addprefix tests/live/,$(addsuffix .sh,$(FIXTURE_TESTS)))

demo: deps all ## run the bundled demo workload under the collector
	$(Q)SOCKAUDIT=$(abspath $(BIN)) demo/run.sh

# Every benchmark; each prints its own table (docs/benchmarks.md explains them).
bench: deps all $(OUT)/bench/gen_events $(OUT)/bench/format_bench $(OUT)/bench/writer_rate ## all benchmarks: nginx ratio, memory, writer, formats
	@echo "== nginx under wrk: traced / untraced (bench/nginx_wrk.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/nginx_wrk.sh
	@echo "== memory with unanswered requests and 10k connections (bench/memory.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) GEN=$(abspath $(OUT)/bench/gen_events) bench/memory.sh
	@echo "== the writer alone: records/s per flush mode (bench/writer_rate.c)"
	$(Q)d=$$(mktemp -d /var/tmp/sockaudit-wr.XXXXXX) && $(OUT)/bench/writer_rate $$d; rm -rf $$d
	@echo "== records/s per flush mode through replay (bench/writer_bench.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/writer_bench.sh
	@echo "== sanitize + redact + format (bench/format_bench.c)"
	$(Q)$(OUT)/bench/format_bench $${BENCH_SECONDS:-1}
	@echo "== forward: records/s shipped over RELP/TLS to a local rsyslog (bench/forward_bench.sh)"
	$(Q)SOCKAUDIT=$(abspath $(BIN)) bench/forward_bench.sh

clean: ## remove build trees
	rm -rf build build-asan

-include $(wildcard $(OUT)/user/*.d $(OUT)/tests/*.d)

# ---- issue 4: sanitize, redact, formats ----
# The fuzz link line has no LDLIBS: the redactor's Hyperscan and PCRE2 go in here
# (--no-as-needed: it comes before the sources that use it on that line).
$(FUZZ_BINS): CPPFLAGS += -Wl,--push-state,--no-as-needed -lhs -lpcre2-8 -Wl,--pop-state

# issue 3 per-target flags: mocks for syscalls that must fail on demand
$(OUT)/tests/test_outpath: LDFLAGS += -Wl,--wrap=syscall
$(OUT)/tests/test_sink: LDFLAGS += -Wl,--wrap=writev -Wl,--wrap=fstatvfs -Wl,--wrap=fdatasync

# Formatting throughput (sanitize + redact + format, MB/s and ns/record) and
# Hyperscan against PCRE2-JIT. Separate from `make bench`, which needs nginx.
$(OUT)/bench:
	$(Q)mkdir -p $@

$(OUT)/bench/format_bench: bench/format_bench.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -lpcre2-8 -o $@

.PHONY: bench-format
bench-format: $(OUT)/bench/format_bench ## sanitize+redact+format MB/s, ns/record; Hyperscan vs PCRE2-JIT
	$(Q)$(OUT)/bench/format_bench $${BENCH_SECONDS:-1}

# Synthetic raw event files for memory and scale runs (bench/memory.sh).
$(OUT)/bench/gen_events: bench/gen_events.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# issue 6: the verifier's test makes the writer's writev fail on demand
$(OUT)/tests/test_verify: LDFLAGS += -Wl,--wrap=writev
# the verifier's harness links libcrypto (HMAC, SHA-256) and zlib (.gz reading)
$(FUZZ_BINS): CPPFLAGS += -Wl,--push-state,--no-as-needed -lcrypto -lz -Wl,--pop-state

# issue 6: the chain's cost on the writer thread, then verify MB/s and peak RSS
# on the chained log it leaves (INTEGRITY_MB, default 1024; on /var/tmp).
$(OUT)/bench/chain_bench: bench/chain_bench.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

.PHONY: bench-integrity
bench-integrity: $(OUT)/bench/chain_bench $(BIN) ## writer records/s with and without the chain; verify MB/s and RSS
	$(Q)d=$$(mktemp -d $${TMPDIR:-/var/tmp}/sockaudit-ibench.XXXXXX); \
	$(OUT)/bench/chain_bench $$d $${INTEGRITY_MB:-1024} && \
	/usr/bin/time -f 'verify peak RSS: %M KiB' $(BIN) verify --key $$d/bench.key $$d/bench.chained; \
	rm -rf $$d

# The writer alone, records/s per flush mode (bench/writer_rate.c).
$(OUT)/bench/writer_rate: bench/writer_rate.c $(LIB) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@
