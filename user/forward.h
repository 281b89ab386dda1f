/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The forwarder of one sink (docs/fleet.md): a thread that follows what the
 * sink's writer put in its log (the live file, then its rotated files,
 * gzip or not), ships every record over RELP/TLS (relp.h) in RFC 5424
 * framing with the record's bytes unchanged in MSG, and keeps a durable
 * cursor that moves only over frames the server acknowledged. At least
 * once: after a crash or a reconnect the unacknowledged frames go again,
 * with the same identifier (stream id and ordinal), so the receiver can
 * drop duplicates. While the remote is down the rotator holds unshipped
 * rotated files (rotate.h) up to the spool limit.
 */
#ifndef SOCKAUDIT_FORWARD_H
#define SOCKAUDIT_FORWARD_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct sink;
struct forwarder;

/* What the forwarder did so far; the metrics endpoint can show these. */
struct forward_stats {
	bool connected;
	uint64_t sent_records;		/* frames written, resends included */
	uint64_t acked_records;		/* frames the server acknowledged */
	uint64_t acked_bytes;		/* record bytes of those */
	uint64_t resent_records;	/* frames sent again after a reconnect or restart */
	uint64_t reconnects;		/* sessions opened after the first */
	uint64_t connect_failures;
	uint64_t unshipped_bytes;	/* in the log (live and held files) past the cursor */
	uint64_t unshipped_records;	/* read and not yet acknowledged (at most the window) */
	double oldest_unshipped_s;	/* age of the record at the cursor (json_lines); 0: none */
	uint64_t spool_lost_records;	/* in held files removed past the spool limit */
	uint64_t spool_lost_files;
	uint64_t ordinal;		/* identifier of the next record to acknowledge */
};

/*
 * Start forwarding sink s (its forward section fc) when fc->target is set;
 * *out stays NULL otherwise. -errno with one line in err (bad TLS files,
 * unreadable cursor).
 */
int forward__start(struct forwarder **out, struct sink *s, const struct sink_config *sc,
		   char *err, size_t errlen);

/*
 * Before the sink closes: the forwarder no longer asks it how far the live
 * file is durable (the close syncs everything the writer wrote).
 */
void forward__detach(struct forwarder *f);
/*
 * The collector is stopping: the forwarder counts its last window from
 * now, not from forward__stop, so the time the capture and the pipeline
 * take to drain does not ship the backlog. It goes on shipping that window
 * (and waiting for its acks) until forward__stop.
 */
void forward__stop_soon(struct forwarder *f);
/*
 * Stop (after the sink's writer has stopped, so its last records can go
 * too): send at most one window more than is in flight, never connect,
 * wait up to drain_ms for the acknowledgements, save the cursor, free.
 * free_rotator: false when the sink's writer may still use it (left
 * behind, stuck).
 */
void forward__stop(struct forwarder *f, int drain_ms, bool free_rotator);
void forward__stats(struct forwarder *f, struct forward_stats *out);
/*
 * check-config: the forward section's TLS files and peer names, one error
 * line (CONFIG:LINE: what, what to do) per problem; how many. 0 when the
 * sink does not forward.
 */
int forward__check(const struct sink_config *sc, const char *config_path);

#define FORWARD_FIELDS 11
struct format_field;
/*
 * The members of a `forward` record into f (FORWARD_FIELDS), when one is
 * due: the link went up or down since the last one, or every
 * FORWARD_RECORD_S seconds while something is unshipped. 0: none due (or f
 * is NULL). The strings live until the next call.
 */
#define FORWARD_RECORD_S 60
size_t forward__record_due(struct forwarder *f, uint64_t now_ns, struct format_field *out);

#endif /* SOCKAUDIT_FORWARD_H */
