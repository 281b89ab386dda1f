// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /metrics: the Prometheus text format 0.0.4. Label values escape \, " and
 * newline; HELP text escapes \ and newline (the format's rules). Every
 * family is written whole (HELP, TYPE, all its samples) before the next, as
 * the format requires.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "metrics.h"
#include "conntrack.h"
#include "correlate.h"
#include "pipeline.h"

#define EXPO_MAX_LABELS 4

static void put(struct jbuf *out, const char *s)
{
	jbuf__raw(out, s, strlen(s));
}

/* Text with \ and newline escaped, and " too when quoted (label values). */
static void put_escaped(struct jbuf *out, const char *s, bool quoted)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(out, "\\\\");
		else if (*s == '\n')
			put(out, "\\n");
		else if (*s == '"' && quoted)
			put(out, "\\\"");
		else
			jbuf__raw(out, s, 1);
	}
}

void expo__family(struct jbuf *out, const char *name, const char *type, const char *help)
{
	put(out, "# HELP ");
	put(out, name);
	put(out, " ");
	put_escaped(out, help, false);
	put(out, "\n# TYPE ");
	put(out, name);
	put(out, " ");
	put(out, type);
	put(out, "\n");
}

static void put_name_labels(struct jbuf *out, const char *name, const struct expo_label *l,
			    int nl)
{
	int i;

	put(out, name);
	if (!nl)
		return;
	put(out, "{");
	for (i = 0; i < nl; i++) {
		put(out, i ? ",": "");
		put(out, l[i].name);
		put(out, "=\"");
		put_escaped(out, l[i].value ? l[i].value : "", true);
		put(out, "\"");
	}
	put(out, "}");
}

void expo__u64(struct jbuf *out, const char *name, const struct expo_label *l, int nl, uint64_t v)
{
	char num[24];

	put_name_labels(out, name, l, nl);
	snprintf(num, sizeof(num), " %llu\n", (unsigned long long)v);
	put(out, num);
}

void expo__f64(struct jbuf *out, const char *name, const struct expo_label *l, int nl, double v)
{
	char num[40];

	put_name_labels(out, name, l, nl);
	snprintf(num, sizeof(num), " %.9g\n", v);
	put(out, num);
}

void expo__histogram(struct jbuf *out, const char *name, const struct expo_label *l, int nl,
		     const double *le_s, const uint64_t *counts, int nb, double sum)
{
	struct expo_label ll[EXPO_MAX_LABELS + 1];
	char bname[128], le[32];
	uint64_t cum = 0;
	int i;

	if (nl > EXPO_MAX_LABELS)
		nl = EXPO_MAX_LABELS;
	memcpy(ll, l, nl * sizeof(*l));
	ll[nl].name = "le";
	ll[nl].value = le;
	snprintf(bname, sizeof(bname), "%s_bucket", name);
	for (i = 0; i <= nb; i++) {
		cum += counts[i];
		if (i < nb)
			snprintf(le, sizeof(le), "%.9g", le_s[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		expo__u64(out, bname, ll, nl + 1, cum);
	}
	snprintf(bname, sizeof(bname), "%s_sum", name);
	expo__f64(out, bname, l, nl, sum);
	snprintf(bname, sizeof(bname), "%s_count", name);
	expo__u64(out, bname, l, nl, cum);
}

/* ---- the collector's families ---- */

static double secs(uint64_t ns)
{
	return ns / 1e9;
}

static void render_build(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[2] = { { "version", s->version }, { "attach", s->attach } };

	expo__family(o, "sockaudit_build_info", "gauge",
		     "Collector version and capture attach mode (always 1).");
	expo__u64(o, "sockaudit_build_info", l, 2, 1);
	expo__family(o, "sockaudit_capture_attached", "gauge",
		     "1 while the BPF programs are attached and capturing.");
	expo__u64(o, "sockaudit_capture_attached", NULL, 0, s->attached);
}

static void render_capture(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "transport", NULL } };
	int t;

	expo__family(o, "sockaudit_captured_events_total", "counter",
		     "Data events read from the ring buffer, by transport.");
	for (t = 0; t < PL_TRANSPORTS; t++) {
		l[0].value = pipeline__transport_name(t);
		expo__u64(o, "sockaudit_captured_events_total", l, 1, s->pm.data_events[t]);
	}
	expo__family(o, "sockaudit_captured_bytes_total", "counter",
		     "Payload bytes captured, by transport.");
	for (t = 0; t < PL_TRANSPORTS; t++) {
		l[0].value = pipeline__transport_name(t);
		expo__u64(o, "sockaudit_captured_bytes_total", l, 1, s->pm.data_bytes[t]);
	}
	expo__family(o, "sockaudit_events_total", "counter",
		     "Kernel events read (data, connection and process events).");
	expo__u64(o, "sockaudit_events_total", NULL, 0, s->pl.events);
	expo__family(o, "sockaudit_ringbuf_size_bytes", "gauge", "Ring buffer size.");
	expo__u64(o, "sockaudit_ringbuf_size_bytes", NULL, 0, s->ringbuf_size);
	expo__family(o, "sockaudit_ringbuf_used_bytes", "gauge",
		     "Bytes waiting in the ring buffer when the snapshot was taken.");
	expo__u64(o, "sockaudit_ringbuf_used_bytes", NULL, 0, s->ringbuf_used);
}

/* Protocols that make records (unknown and skipped streams make none). */
static const int record_protos[] = { PROTO_HTTP, PROTO_JSONRPC, PROTO_RAW };

static void render_exchanges(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[2] = { { "proto", NULL }, { "outcome", NULL } };
	size_t i;
	int oc;

	expo__family(o, "sockaudit_exchanges_total", "counter",
		     "Exchanges written as records, by protocol and outcome.");
	for (i = 0; i < sizeof(record_protos) / sizeof(record_protos[0]); i++) {
		l[0].value = pipeline__proto_name(record_protos[i]);
		for (oc = 0; oc < OUTCOME_MAX; oc++) {
			l[1].value = outcome__name(oc);
			expo__u64(o, "sockaudit_exchanges_total", l, 2,
				  s->pm.exchanges[record_protos[i]][oc]);
		}
	}
	expo__family(o, "sockaudit_records_total", "counter",
		     "Records the pipeline handed to the sinks (exchanges, loss, lifecycle).");
	expo__u64(o, "sockaudit_records_total", NULL, 0, s->pl.records);
}

static void render_loss(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "reason", NULL } };
	int i;

	expo__family(o, "sockaudit_kernel_loss_total", "counter",
		     "Kernel loss counters; reason is the loss record's counter name (its unit "
		     "is in the name: _events, _bytes).");
	for (i = 0; i < SA_CNT_MAX; i++) {
		if (i == SA_CNT_EVENTS)
			continue;
		l[0].value = kernel_counter_name(i);
		expo__u64(o, "sockaudit_kernel_loss_total", l, 1, s->kcnt[i]);
	}
	expo__family(o, "sockaudit_pipeline_loss_total", "counter",
		     "Userspace pipeline loss counters; reason is the loss record's counter name.");
	for (i = 0; i < PL_CNT_MAX; i++) {
		l[0].value = pipeline__counter_name(i);
		expo__u64(o, "sockaudit_pipeline_loss_total", l, 1, s->pcnt[i]);
	}
}

static void render_state(const struct snapshot *s, struct jbuf *o)
{
	expo__family(o, "sockaudit_pending_requests", "gauge",
		     "Requests waiting for their response.");
	expo__u64(o, "sockaudit_pending_requests", NULL, 0, s->pl.pending);
	expo__family(o, "sockaudit_pending_requests_limit", "gauge",
		     "Bound on waiting requests (max_pending).");
	expo__u64(o, "sockaudit_pending_requests_limit", NULL, 0, s->pm.pending_limit);
	expo__family(o, "sockaudit_connections", "gauge", "Connections tracked.");
	expo__u64(o, "sockaudit_connections", NULL, 0, s->pl.conns);
	expo__family(o, "sockaudit_connections_limit", "gauge",
		     "Bound on tracked connections (max_connections).");
	expo__u64(o, "sockaudit_connections_limit", NULL, 0, s->pm.conns_limit);
}

static void render_maps(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "map", NULL } };
	int i;

	expo__family(o, "sockaudit_bpf_map_entries", "gauge",
		     "Entries in use in each BPF map (arrays are always full).");
	for (i = 0; i < s->nmaps; i++) {
		l[0].value = s->maps[i].name;
		expo__u64(o, "sockaudit_bpf_map_entries", l, 1, s->maps[i].entries);
	}
	expo__family(o, "sockaudit_bpf_map_capacity_entries", "gauge",
		     "Capacity (max_entries) of each BPF map.");
	for (i = 0; i < s->nmaps; i++) {
		l[0].value = s->maps[i].name;
		expo__u64(o, "sockaudit_bpf_map_capacity_entries", l, 1, s->maps[i].capacity);
	}
}

/* A per-sink counter or gauge: one family, a sample per sink. */
static void sink_family(const struct snapshot *s, struct jbuf *o, const char *name,
			const char *type, const char *help, size_t off, bool seconds)
{
	struct expo_label l[1] = { { "sink", NULL } };
	int i;

	expo__family(o, name, type, help);
	for (i = 0; i < s->nsinks; i++) {
		uint64_t v = *(const uint64_t *)((const char *)&s->sinks[i].st + off);

		l[0].value = s->sinks[i].path;
		if (seconds)
			expo__f64(o, name, l, 1, secs(v));
		else
			expo__u64(o, name, l, 1, v);
	}
}

#define SINK_U64(name, type, help, field) \
	sink_family(s, o, name, type, help, offsetof(struct sink_stats, field), false)
#define SINK_SECONDS(name, help, field) \
	sink_family(s, o, name, "gauge", help, offsetof(struct sink_stats, field), true)

static void render_sink_counters(const struct snapshot *s, struct jbuf *o)
{
	SINK_U64("sockaudit_sink_records_total", "counter", "Records written to the file.",
		 records);
	SINK_U64("sockaudit_sink_written_bytes_total", "counter", "Bytes written to the file.",
		 bytes);
	SINK_U64("sockaudit_sink_fsyncs_total", "counter", "fdatasync calls that succeeded.",
		 fsyncs);
	SINK_U64("sockaudit_sink_rotations_total", "counter", "Files rotated.", rotations);
	SINK_U64("sockaudit_sink_queue_bytes", "gauge", "Bytes queued for the writer.",
		 queued_bytes);
	SINK_U64("sockaudit_sink_queue_limit_bytes", "gauge", "Bound on the writer's queue.",
		 queue_limit);
	SINK_SECONDS("sockaudit_sink_last_write_timestamp_seconds",
		     "Unix time of the last successful write (0: none).", last_write_ns);
	SINK_SECONDS("sockaudit_sink_last_sync_timestamp_seconds",
		     "Unix time of the last successful fdatasync (0: none).", last_sync_ns);
	SINK_U64("sockaudit_chain_checkpoints_total", "counter",
		 "Integrity chain checkpoints written (0 without a chain).", checkpoints);
	SINK_SECONDS("sockaudit_chain_last_checkpoint_timestamp_seconds",
		     "Unix time of the chain's last checkpoint (0: none).", last_ckpt_ns);
}

/* A forwarded sink's figure (forward.h): one family, a sample per forwarded sink. */
static void forward_family(const struct snapshot *s, struct jbuf *o, const char *name,
			   const char *type, const char *help, size_t off)
{
	struct expo_label l[1] = { { "sink", NULL } };
	int i;

	expo__family(o, name, type, help);
	for (i = 0; i < s->nsinks; i++) {
		if (!s->sinks[i].forwarding)
			continue;
		l[0].value = s->sinks[i].path;
		expo__u64(o, name, l, 1, *(const uint64_t *)((const char *)&s->sinks[i].fwd + off));
	}
}

#define FWD_U64(name, type, help, field) \
	forward_family(s, o, name, type, help, offsetof(struct forward_stats, field))

static void render_forward(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "sink", NULL } };
	int i;

	expo__family(o, "sockaudit_forward_connected", "gauge",
		     "1 while the RELP/TLS link of a forwarded sink is up.");
	for (i = 0; i < s->nsinks; i++)
		if (s->sinks[i].forwarding) {
			l[0].value = s->sinks[i].path;
			expo__u64(o, "sockaudit_forward_connected", l, 1, s->sinks[i].fwd.connected);
		}
	expo__family(o, "sockaudit_forward_oldest_unshipped_seconds", "gauge",
		     "Age of the oldest record not yet acknowledged by the remote (0: none).");
	for (i = 0; i < s->nsinks; i++)
		if (s->sinks[i].forwarding) {
			l[0].value = s->sinks[i].path;
			expo__f64(o, "sockaudit_forward_oldest_unshipped_seconds", l, 1,
				  s->sinks[i].fwd.oldest_unshipped_s);
		}
	FWD_U64("sockaudit_forward_acked_records_total", "counter",
		"Records the remote acknowledged.", acked_records);
	FWD_U64("sockaudit_forward_acked_bytes_total", "counter",
		"Record bytes the remote acknowledged.", acked_bytes);
	FWD_U64("sockaudit_forward_resent_records_total", "counter",
		"Frames sent again after a reconnect or restart (duplicates at the receiver).",
		resent_records);
	FWD_U64("sockaudit_forward_reconnects_total", "counter",
		"RELP sessions opened after the first.", reconnects);
	FWD_U64("sockaudit_forward_connect_failures_total", "counter",
		"Connection or TLS handshake attempts that failed.", connect_failures);
	FWD_U64("sockaudit_forward_unshipped_bytes", "gauge",
		"Bytes of the log (live and held rotated files) past the cursor.", unshipped_bytes);
	FWD_U64("sockaudit_forward_unshipped_records", "gauge",
		"Records read and not yet acknowledged.", unshipped_records);
	FWD_U64("sockaudit_forward_spool_lost_records_total", "counter",
		"Records in held files removed past the spool limit (also loss records).",
		spool_lost_records);
}

static void render_sink_state(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[2] = { { "sink", NULL }, { "state", NULL } };
	int i, st;

	expo__family(o, "sockaudit_sink_state", "gauge",
		     "1 for the state the sink is in (writing, retrying, suspended, failed).");
	for (i = 0; i < s->nsinks; i++) {
		l[0].value = s->sinks[i].path;
		for (st = 0; st < SINK_STATE_MAX; st++) {
			l[1].value = sink__state_name(st);
			expo__u64(o, "sockaudit_sink_state", l, 2, (int)s->sinks[i].st.state == st);
		}
	}
}

static void render_sink_loss(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[2] = { { "sink", NULL }, { "reason", NULL } };
	int i, w;

	expo__family(o, "sockaudit_sink_loss_total", "counter",
		     "Records a sink lost after accepting them; reason is the loss record's "
		     "counter name.");
	for (i = 0; i < s->nsinks; i++) {
		l[0].value = s->sinks[i].path;
		for (w = 0; w < SINK_LOST_MAX; w++) {
			l[1].value = sink__lost_name(w);
			expo__u64(o, "sockaudit_sink_loss_total", l, 2, s->sinks[i].st.lost[w]);
		}
	}
}

static void render_fsync(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "sink", NULL } };
	double le[SINK_FSYNC_BUCKETS];
	int i;

	for (i = 0; i < SINK_FSYNC_BUCKETS; i++)
		le[i] = secs(sink_fsync_le_ns[i]);
	expo__family(o, "sockaudit_sink_fsync_duration_seconds", "histogram",
		     "fdatasync latency of each sink's writer.");
	for (i = 0; i < s->nsinks; i++) {
		l[0].value = s->sinks[i].path;
		expo__histogram(o, "sockaudit_sink_fsync_duration_seconds", l, 1, le,
				s->sinks[i].st.fsync_hist, SINK_FSYNC_BUCKETS,
				secs(s->sinks[i].st.fsync_ns_sum));
	}
}

static void render_redactions(const struct snapshot *s, struct jbuf *o)
{
	struct expo_label l[1] = { { "rule", NULL } };
	int i;

	expo__family(o, "sockaudit_redactions_total", "counter",
		     "Secrets replaced by [REDACTED:rule], by rule.");
	for (i = 0; i < s->nrules; i++) {
		l[0].value = s->rules[i].name;
		expo__u64(o, "sockaudit_redactions_total", l, 1, s->rules[i].count);
	}
}

static void render_process(const struct snapshot *s, struct jbuf *o)
{
	expo__family(o, "process_cpu_seconds_total", "counter",
		     "User and system CPU time of the collector.");
	expo__f64(o, "process_cpu_seconds_total", NULL, 0, s->cpu_seconds);
	expo__family(o, "process_resident_memory_bytes", "gauge", "Resident set size.");
	expo__u64(o, "process_resident_memory_bytes", NULL, 0, s->rss_bytes);
	expo__family(o, "process_open_fds", "gauge", "Open file descriptors.");
	expo__u64(o, "process_open_fds", NULL, 0, s->open_fds);
	expo__family(o, "process_start_time_seconds", "gauge",
		     "Unix time the collector started.");
	expo__f64(o, "process_start_time_seconds", NULL, 0, secs(s->start_ns));
}

void metrics__render(const struct snapshot *s, struct jbuf *out)
{
	render_build(s, out);
	render_capture(s, out);
	render_exchanges(s, out);
	render_loss(s, out);
	render_state(s, out);
	render_maps(s, out);
	render_sink_counters(s, out);
	render_sink_state(s, out);
	render_sink_loss(s, out);
	render_forward(s, out);
	render_fsync(s, out);
	render_redactions(s, out);
	render_process(s, out);
}
