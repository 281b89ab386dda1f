// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The writer's chain read back by the verifier: a rotated, gzip'ed set
 * with a restart verifies; an edit, a deleted rotated file, a lost state
 * and the anchor's tail are caught where they are; a failed write
 * (writev wrapped to fail) leaves no hole in the chain; exit statuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "chainfile.h"
#include "config.h"
#include "format.h"
#include "sink.h"
#include "verify.h"

static bool fail_writes;

ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
	if (__atomic_load_n(&fail_writes, __ATOMIC_SEQ_CST)) {
		errno = ENOSPC;
		return -1;
	}
	return __real_writev(fd, iov, n);
}

static char dir[64], logp[128], keyp[128], anchorp[160], statep[160], out[8192];
static const char *sink_type = "json_lines";	/* of the sinks open_sink makes */

static int setup(void **state)
{
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/sa-verify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/a.log", dir);
	snprintf(keyp, sizeof(keyp), "%s/k", dir);
	snprintf(anchorp, sizeof(anchorp), "%s.anchor", logp);
	snprintf(statep, sizeof(statep), "%s.chain", logp);
	assert_int_equal(chainfile__keygen(keyp, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	if (getenv("KEEP"))
		return 0;	/* KEEP=1: leave the logs for a look */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct sink *open_sink(uint64_t max_size, bool critical)
{
	struct sink_config cfg;
	struct sink *s = NULL;
	char err[512];

	sink_config__defaults(&cfg);
	assert_int_equal(sink_config__set_output(&cfg, logp, err, sizeof(err)), 0);
	cfg.type = strdup(sink_type);
	cfg.integrity.key_file = strdup(keyp);
	cfg.integrity.checkpoint_every = 20;
	cfg.max_file_size = max_size;
	cfg.backup_count = 20;
	cfg.compress = true;
	cfg.critical = critical;
	cfg.flush_mode = FLUSH_BATCHED;
	assert_int_equal(sink__create(&s, &cfg, 0, err, sizeof(err)), 0);
	sink_config__free(&cfg);
	return s;
}

/* n exchange-like records, flushed one by one so rotation falls between them. */
static void put_records(struct sink *s, int from, int n)
{
	char rec[256];
	int i;

	for (i = from; i < from + n; i++) {
		int len = snprintf(rec, sizeof(rec), "{\"v\":1,\"seq\":%d,\"type\":\"exchange\","
				   "\"pad\":\"%0100d\"}\n", i, i);

		assert_int_equal(sink__write(s, rec, len), 0);
		assert_int_equal(sink__flush(s), 0);
	}
}

/* Run `verify ARGS...` with its stdout caught in out[]; returns the exit status. */
static int run_verify(int argc, ...)
{
	char *argv[8] = { "verify" }, path[128];
	va_list ap;
	int i, rc, fd, saved;
	ssize_t n;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/out", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	rc = verify__main(argc + 1, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	fd = open(path, O_RDONLY);
	n = read(fd, out, sizeof(out) - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	return rc;
}

/* A set with rotations (gzip), a restart and checkpoints. */
static void write_clean_set(void)
{
	struct sink *s = open_sink(4096, true);

	put_records(s, 1, 60);
	assert_int_equal(sink__close(s), 0);
	s = open_sink(4096, true);	/* a restart: chain_resume */
	put_records(s, 61, 30);
	assert_int_equal(sink__close(s), 0);
}

static void test_clean_set_verifies(void **state)
{
	char gz[160];

	write_clean_set();
	snprintf(gz, sizeof(gz), "%s.2.gz", logp);
	assert_int_equal(access(gz, F_OK), 0);	/* rotated and compressed */
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
	assert_non_null(strstr(out, "OK "));
	assert_non_null(strstr(out, " 1 restarts"));
	assert_null(strstr(out, " 0 rotations"));
	/* without the key: the links and the anchor only, said so */
	assert_int_equal(run_verify(1, logp), 0);
	assert_non_null(strstr(out, "no --key"));
}

/* Change one byte of line `line` of path. */
static void edit_line(const char *path, int line)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sed -i '%ds/\"exchange\"/\"exchangf\"/' %s", line, path);
	assert_int_equal(system(cmd), 0);
}

static void test_edit_found_in_place(void **state)
{
	char want[200];

	write_clean_set();
	edit_line(logp, 4);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	snprintf(want, sizeof(want), "TAMPERED %s:4: modified", logp);
	assert_non_null(strstr(out, want));
}

static void test_missing_rotated_file(void **state)
{
	char path[160];

	write_clean_set();
	snprintf(path, sizeof(path), "%s.2.gz", logp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	assert_non_null(strstr(out, "missing rotated file"));
	assert_non_null(strstr(out, ".2:"));	/* it names the hole */
}

/* Cutting the log back to before its last checkpoints: only the anchor shows it. */
static void test_truncated_tail(void **state)
{
	struct stat st;
	char cmd[600];

	write_clean_set();
	assert_int_equal(stat(logp, &st), 0);
	snprintf(cmd, sizeof(cmd), "head -n 3 %s > %s.t && mv %s.t %s", logp, logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 0);	/* no anchor: unseen */
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 1);
	assert_non_null(strstr(out, "truncated tail"));
}

/* A run of n1 records, then harm() done to the files, then a restart writing n2 more. */
static void run_restart(int n1, void (*harm)(void), int n2)
{
	struct sink *s = open_sink(0, true);

	put_records(s, 1, n1);
	assert_int_equal(sink__close(s), 0);
	harm();
	s = open_sink(0, true);
	put_records(s, n1 + 1, n2);
	assert_int_equal(sink__close(s), 0);
}

static void drop_state(void)
{
	assert_int_equal(unlink(statep), 0);
}

/* Lost state: an explicit chain_gap, never a silent new start. */
static void test_lost_state_is_a_gap(void **state)
{
	run_restart(5, drop_state, 5);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	assert_non_null(strstr(out, "GAP "));
	assert_non_null(strstr(out, "state_missing"));
	assert_non_null(strstr(out, "NOT PROVEN"));
	assert_int_equal(run_verify(4, "--key", keyp, "--allow-gaps", logp), 0);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	assert_int_equal(system(cmd), 0);
}

/* A state that lags the log (a crash after the last save) is caught up, not a gap. */
static void test_crash_catches_up(void **state)
{
	struct sink *s = open_sink(0, true);
	char old[200];

	put_records(s, 1, 5);
	snprintf(old, sizeof(old), "%s.old", statep);
	copy_file(statep, old);		/* the state as it was 5 records in */
	put_records(s, 6, 7);
	assert_int_equal(sink__close(s), 0);
	copy_file(old, statep);
	s = open_sink(0, true);
	put_records(s, 13, 2);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
	assert_non_null(strstr(out, " 0 gaps"));
	/* the same, but a record after the old state's head was edited: a gap */
	copy_file(old, statep);
	edit_line(logp, 10);
	s = open_sink(0, true);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(run_verify(4, "--key", keyp, "--allow-gaps", logp), 1);
	assert_non_null(strstr(out, "TAMPERED"));
}

/* Records whose write failed are not in the chain: no hole for verify to find. */
static void test_failed_write_leaves_no_hole(void **state)
{
	struct sink *s = open_sink(0, false);

	put_records(s, 1, 5);
	__atomic_store_n(&fail_writes, true, __ATOMIC_SEQ_CST);
	put_records(s, 6, 3);
	__atomic_store_n(&fail_writes, false, __ATOMIC_SEQ_CST);
	put_records(s, 9, 5);
	assert_true(sink__lost(s, SINK_LOST_WRITE) >= 3);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
}

static void test_usage_and_unreadable(void **state)
{
	char bad[160];

	assert_int_equal(run_verify(0), 2);
	assert_int_equal(run_verify(1, "--bogus"), 2);
	snprintf(bad, sizeof(bad), "%s/none.log", dir);
	assert_int_equal(run_verify(1, bad), 2);
	assert_int_equal(run_verify(3, "--key", bad, bad), 2);
	assert_int_equal(run_verify(4, "--anchor", anchorp, bad, bad), 2);
}

/* n records rendered by the sink's formatter (loss records: every format has them). */
static void put_format_records(struct sink *s, int from, int n)
{
	const struct formatter *f = formatter__find(sink_type);
	struct format_field fl[] = {
		{ .key = "counter", .kind = FF_STR, .s = "exchange_like" },
		{ .key = "pad", .kind = FF_STR, .s = "0123456789012345678901234567890123456789" },
		{ .key = "count", .kind = FF_U64 },
	};
	struct jbuf jb;
	int i;

	jbuf__init(&jb);
	for (i = from; i < from + n; i++) {
		jbuf__reset(&jb);
		fl[2].u = i;
		assert_int_equal(f->event(&jb, NULL, i, 1795454012914000000ULL + i, "loss", fl, 3), 0);
		assert_int_equal(sink__write(s, jb.buf, jb.len), 0);
		assert_int_equal(sink__flush(s), 0);
	}
	jbuf__free(&jb);
}

/* Swap one character of line `line` (1-based) of path for another. */
static void flip_line(const char *path, int line)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sed -i '%ds/exchange_like/exchange_lika/' %s", line, path);
	assert_int_equal(system(cmd), 0);
}

/* Number (1-based) of the first line of path holding needle. */
static int first_line_with(const char *path, const char *needle)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "grep -n -m1 -- '%s' %s", needle, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static int count_matches(const char *path, const char *needle)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	/* the log and its rotated files, gzip'ed or not */
	snprintf(cmd, sizeof(cmd), "zcat -f %s %s.[0-9]* | grep -c -- '%s'", path, path, needle);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/*
 * Every format: the writer's own records (chain_gap, rotate, chain_resume,
 * checkpoint) are in the file's format and sealed in its natural field; a
 * rotated set with a restart verifies; one changed byte is found in place.
 */
static void test_every_format_verifies(void **state)
{
	static const char *const types[] = { "json_lines", "cef", "syslog", "line", "csv" };
	static const char *const marks[] = { "\"chain\":\"", " chain=", "chain@32473 v=",
					     " chain=", "," };
	char want[256], rot[160];
	struct sink *s;
	size_t i;
	int ln;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		sink_type = types[i];
		s = open_sink(4096, true);
		put_format_records(s, 1, 40);
		assert_int_equal(sink__close(s), 0);
		s = open_sink(4096, true);	/* chain_resume */
		put_format_records(s, 41, 10);
		assert_int_equal(sink__close(s), 0);
		assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
		assert_non_null(strstr(out, "OK "));
		assert_non_null(strstr(out, " 1 restarts"));
		assert_null(strstr(out, " 0 rotations"));
		/* the writer's records are in the format: none is a JSON object */
		if (strcmp(types[i], "json_lines"))
			assert_int_equal(count_matches(logp, "^{"), 0);
		assert_true(count_matches(logp, "chain_resume") >= 1);
		assert_true(count_matches(logp, marks[i]) >= 1);
		if (!strcmp(types[i], "csv")) {
			snprintf(rot, sizeof(rot), "%s.1.gz", logp);
			snprintf(want, sizeof(want), "zcat %s | head -n 1 | grep -q "
				 "'^seq,ts,type,.*,details,chain$'", rot);
			assert_int_equal(system(want), 0);	/* a header after rotation too */
			assert_true(count_matches(logp, "^seq,ts,type,") >= 2);
		}
		ln = first_line_with(logp, "exchange_like");
		flip_line(logp, ln);
		assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
		snprintf(want, sizeof(want), "TAMPERED %s:%d: modified", logp, ln);
		if (!strstr(out, want))
			fail_msg("%s: %s", types[i], out);
		assert_int_equal(teardown(state), 0);
		assert_int_equal(setup(state), 0);
	}
	sink_type = "json_lines";
}

/* Writer records of the text formats: the type at its place, the chain fields found. */
static void test_parse_ctl_text(void **state)
{
	static const char *const lines[] = {
		"<109>1 2026-11-23T17:13:32.914656Z vm sockaudit 1 rotate [sockaudit@32473 "
		"seq=\"0\" reason=\"size\" chain_seq=\"42\" prev_chain=\"%s\" file=\"/x\"] rotate",
		"CEF:0|sockaudit|sockaudit|0.1.0|rotate|rotate|3|rt=1 dvchost=vm externalId=0 "
		"reason=size chain_seq=42 prev_chain=%s file=/x",
		"2026-11-23T17:13:32.914656368Z \"rotate\" seq=0 reason=\"size\" chain_seq=42 "
		"prev_chain=\"%s\" file=\"/x\"",
		"0,2026-11-23T17:13:32.914656368Z,\"rotate\",,,,,,,,,,,,,,,,,,,,,,,\"reason=size;"
		"chain_seq=42;prev_chain=%s;file=/x\"",
	};
	static const char hex[] = "0101010101010101010101010101010101010101010101010101010101010101";
	static const char ex[] = "2026-11-23T17:13:32.914656368Z exchange seq=1 method=\"GET\" "
		"target=\"/ \\\"rotate\\\" chain_seq=1\"";
	struct verify_ctl_info c;
	char line[512];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(line, sizeof(line), lines[i], hex);
		verify__parse_ctl(line, strlen(line), &c);
		if (c.type != CTL_ROTATE || !c.has_pos || c.seq != 42 || c.prev[31] != 1)
			fail_msg("not parsed: %s", line);
	}
	verify__parse_ctl(ex, strlen(ex), &c);
	assert_int_equal(c.type, CTL_NONE);
}

static void test_parse_ctl(void **state)
{
	static const char rot[] = "{\"v\":1,\"ts\":\"t\",\"type\":\"rotate\",\"reason\":\"size\","
		"\"chain_seq\":42,\"prev_chain\":\"0101010101010101010101010101010101010101010101"
		"010101010101010101\"}";
	static const char gap[] = "{\"v\":1,\"ts\":\"t\",\"type\":\"chain_gap\",\"reason\":"
		"\"state_missing\"}";
	static const char ex[] = "{\"v\":1,\"type\":\"exchange\",\"body\":\"\\\"type\\\":\\\"rotate\"}";
	struct verify_ctl_info c;

	verify__parse_ctl(rot, strlen(rot), &c);
	assert_int_equal(c.type, CTL_ROTATE);
	assert_true(c.has_pos);
	assert_int_equal(c.seq, 42);
	assert_int_equal(c.prev[31], 1);
	verify__parse_ctl(gap, strlen(gap), &c);
	assert_int_equal(c.type, CTL_GAP);
	assert_false(c.has_pos);
	assert_string_equal(c.reason, "state_missing");
	verify__parse_ctl(ex, strlen(ex), &c);
	assert_int_equal(c.type, CTL_NONE);
	verify__parse_ctl("{\"v\":", 5, &c);
	assert_int_equal(c.type, CTL_NONE);
}

/* An emptied anchor does not hide a cut tail: the log has checkpoints the anchor lacks. */
static void test_emptied_anchor_and_cut_tail(void **state)
{
	char cmd[600];

	write_clean_set();
	assert_int_equal(truncate(anchorp, 0), 0);
	snprintf(cmd, sizeof(cmd), "head -n 3 %s > %s.t && mv %s.t %s", logp, logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 1);
	assert_non_null(strstr(out, "anchor file"));
	assert_non_null(strstr(out, "is empty but the log has"));
	/* the same without the cut: still an emptied anchor */
	assert_int_equal(teardown(state), 0);
	assert_int_equal(setup(state), 0);
	write_clean_set();
	assert_int_equal(truncate(anchorp, 0), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 1);
	assert_non_null(strstr(out, "is empty but the log has"));
}

/* The happy path of an empty anchor: one checkpoint, just written before a crash. */
static void test_empty_anchor_one_checkpoint(void **state)
{
	struct sink *s = open_sink(0, true);

	put_records(s, 1, 5);
	assert_int_equal(sink__close(s), 0);	/* the stop checkpoint: the only one */
	assert_int_equal(truncate(anchorp, 0), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
	assert_non_null(strstr(out, "not in the empty anchor"));
}

/* LOG.k and LOG.k.gz side by side: equal (interrupted compression) is read once; edited fails. */
static void test_plain_and_gz_copies(void **state)
{
	char cmd[600];

	write_clean_set();
	snprintf(cmd, sizeof(cmd), "zcat %s.2.gz > %s.2", logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
	assert_non_null(strstr(out, "holds the same records"));
	/* the attack: the .gz edited, the plain copy left as it was */
	snprintf(cmd, sizeof(cmd), "zcat %s.2.gz | sed '2s/\"exchange\"/\"exchangf\"/' | "
		 "gzip > %s.t && mv %s.t %s.2.gz", logp, logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 1);
	assert_non_null(strstr(out, "hold different records"));
	/* and the other way round */
	snprintf(cmd, sizeof(cmd), "zcat %s.2 | gzip > %s.2.gz && sed -i '2s/\"exchange\"/"
		 "\"exchangf\"/' %s.2", logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	assert_non_null(strstr(out, "hold different records"));
}

/* Replace the value of the state file's line NAME with val. */
static void set_state_line(const char *name, const char *val)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "sed -i 's|^%s .*|%s %s|' %s", name, name, val, statep);
	assert_int_equal(system(cmd), 0);
}

static int log_has(const char *needle)
{
	return count_matches(logp, needle);
}

static void replace_state_key(void)
{
	set_state_line("key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

/* A state whose key was replaced is refused at start (state_mismatch), not resumed. */
static void test_state_key_replaced(void **state)
{
	run_restart(5, replace_state_key, 5);
	assert_int_equal(log_has("\"reason\":\"state_mismatch\""), 1);
	assert_int_equal(log_has("chain_resume"), 0);
	/* the chain after the refused state is whole: only the reset is reported */
	assert_int_equal(run_verify(4, "--key", keyp, "--allow-gaps", logp), 0);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	assert_non_null(strstr(out, "state_mismatch"));
	assert_null(strstr(out, "TAMPERED"));
}

/* The state of another log is a mismatch; a state that is not one is unreadable. */
static void test_state_reasons(void **state)
{
	struct sink *s = open_sink(0, true);

	put_records(s, 1, 3);
	assert_int_equal(sink__close(s), 0);
	set_state_line("file", "/var/log/other.log");
	s = open_sink(0, true);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(log_has("\"reason\":\"state_mismatch\""), 1);
	assert_int_equal(truncate(statep, 10), 0);
	s = open_sink(0, true);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(log_has("\"reason\":\"state_unreadable\""), 1);
	assert_int_equal(run_verify(4, "--key", keyp, "--allow-gaps", logp), 0);
}

static void drop_anchor(void)
{
	assert_int_equal(unlink(anchorp), 0);
}

/* An anchor deleted on the host: the next start says so in the log and verify notes it. */
static void test_anchor_deleted_is_recorded(void **state)
{
	struct sink *s;

	run_restart(30, drop_anchor, 30);
	assert_int_equal(log_has("\"type\":\"anchor_missing\""), 1);
	assert_int_equal(run_verify(5, "--key", keyp, "--anchor", anchorp, logp), 0);
	assert_non_null(strstr(out, "found its anchor file missing"));
	/* a plain restart with the anchor in place writes no such record */
	s = open_sink(0, true);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(log_has("\"type\":\"anchor_missing\""), 1);
}

/* verify with another key: TAMPERED at the first record, and the hint that a wrong key looks so. */
static void test_wrong_key_says_so(void **state)
{
	char other[160], err[256];

	write_clean_set();
	snprintf(other, sizeof(other), "%s/k2", dir);
	assert_int_equal(chainfile__keygen(other, err, sizeof(err)), 0);
	assert_int_equal(run_verify(3, "--key", other, logp), 1);
	assert_non_null(strstr(out, "TAMPERED"));
	assert_non_null(strstr(out, "a wrong --key looks exactly like this"));
	/* a real edit further in does not get the hint */
	edit_line(logp, 4);
	assert_int_equal(run_verify(3, "--key", keyp, logp), 1);
	assert_null(strstr(out, "wrong --key"));
}

/* A directory verify may not search: the real errno, not "No such file". */
static void test_unreadable_dir_names_errno(void **state)
{
	char errp[160], buf[1024];
	int fd, status;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		skip();		/* needs to drop to another user */
	write_clean_set();
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(errp, sizeof(errp), "/tmp/sa-verify-err.%d", (int)getpid());
	fd = open(errp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "verify", logp, NULL };

		dup2(fd, 2);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		_exit(verify__main(2, argv));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(errp);
	buf[n > 0 ? n : 0] = '\0';
	assert_non_null(strstr(buf, "Permission denied"));
	assert_null(strstr(buf, "No such file"));
}

/* verify ARGV in a child with stderr into a file, killed if it hangs: exit status, stderr */
static int verify_child(char **argv, int argc, char *buf, size_t cap)
{
	char errp[160];
	int fd, status;
	ssize_t n;
	pid_t pid;

	snprintf(errp, sizeof(errp), "%s/verify.err", dir);
	fd = open(errp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 2);
		alarm(10);	/* a hang on a FIFO ends as SIGALRM, not as a stuck test */
		_exit(verify__main(argc, argv));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = pread(fd, buf, cap - 1, 0);
	close(fd);
	unlink(errp);
	buf[n > 0 ? n : 0] = '\0';
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * A FIFO planted where verify reads (the log named, the anchor): refused
 * at once as not a regular file, never waited on.
 */
static void test_fifo_inputs_refused(void **state)
{
	char fifo[160], buf[2048];
	char *as_log[] = { "verify", fifo, NULL };
	char *as_anchor[] = { "verify", "--anchor", fifo, logp, NULL };

	write_clean_set();
	snprintf(fifo, sizeof(fifo), "%s/planted", dir);
	assert_int_equal(mkfifo(fifo, 0666), 0);
	assert_int_equal(verify_child(as_log, 2, buf, sizeof(buf)), 2);
	assert_non_null(strstr(buf, "not a regular file"));
	assert_int_equal(verify_child(as_anchor, 4, buf, sizeof(buf)), 2);
	assert_non_null(strstr(buf, "not a regular file"));
	unlink(fifo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_set_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_found_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_rotated_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_state_is_a_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_no_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_catches_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_and_unreadable, setup, teardown),
		cmocka_unit_test(test_parse_ctl),
		cmocka_unit_test(test_parse_ctl_text),
		cmocka_unit_test_setup_teardown(test_every_format_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emptied_anchor_and_cut_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_anchor_one_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_and_gz_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_key_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_deleted_is_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_dir_names_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_inputs_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
