# Shared by the service live tests (issue 17): a cgroup of the test's own in
# the cgroup v2 hierarchy, and servers started inside it. Source after
# common.sh.

# cgroup_v2_root: the cgroup2 mount point from /proc/mounts
cgroup_v2_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }

# make_cgroup NAME: create ROOT/NAME (removed at exit, its processes killed); sets CG
make_cgroup() {
	local root
	root=$(cgroup_v2_root)
	[ -n "$root" ] || skip "no cgroup v2 hierarchy mounted"
	CG=$root/$1
	mkdir "$CG"
	trap 'cgroup_cleanup; cleanup' EXIT
}

cgroup_cleanup() {
	local p
	[ -n "${CG:-}" ] && [ -d "$CG" ] || return 0
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && return 0; sleep 0.05; done
}

# in_cgroup CMD...: run CMD in the background inside $CG; sets BG_PID
in_cgroup() {
	( echo "$BASHPID" > "$CG/cgroup.procs"; exec "$@" ) &
	BG_PID=$!
}

# http_server PORT: a python http.server on 127.0.0.1:PORT, serving $WORKDIR/www
http_server_cmd() { echo python3 -m http.server "$1" --bind 127.0.0.1 --directory "$WORKDIR"; }

# get PORT PATH: one request, its status code
get() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }

# targets_of LOG PORT: the request targets recorded on local port PORT, sorted, one line
targets_of() {
	jqlog "$1" "[.[] | select(.type==\"exchange\" and (.conn.local | endswith(\":$2\"))) | .request.target] | sort | join(\" \")"
}
