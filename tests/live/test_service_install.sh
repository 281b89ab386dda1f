#!/usr/bin/env bash
# make install DESTDIR=...: every file where it belongs with its mode (the
# config root 0600, the log directory 0700); the man page renders; the unit
# passes `systemd-analyze verify` (offline) and its exposure score is
# printed; an installed edited config survives a second install; make
# uninstall removes the program files and keeps the config and the logs.
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v systemd-analyze >/dev/null || skip "no systemd-analyze (make deps installs systemd)"
repo=$(cd "$LIB/../.." && pwd)
out=$(dirname "$SOCKAUDIT")
# the tree the binary under test was built in (make asan: build-asan, ASAN=1)
tree=(OUT="$out")
[ "$(basename "$out")" != build-asan ] || tree=(ASAN=1)
dest=$WORKDIR/root
mk() { make -s -C "$repo" "${tree[@]}" DESTDIR="$dest" "$@" >"$WORKDIR/make.out" 2>&1 || { cat "$WORKDIR/make.out" >&2; fail "make $*"; }; }
mk install
mode() { stat -c '%a %U:%G' "$dest$1"; }
assert_eq "binary" "755 root:root" "$(mode /usr/local/sbin/sockaudit)"
assert_eq "config directory" "700 root:root" "$(mode /etc/sockaudit)"
assert_eq "config" "600 root:root" "$(mode /etc/sockaudit/sockaudit.yaml)"
assert_eq "log directory" "700 root:root" "$(mode /var/log/sockaudit)"
assert_eq "unit" "644 root:root" "$(mode /lib/systemd/system/sockaudit.service)"
assert_eq "man page" "644 root:root" "$(mode /usr/local/share/man/man8/sockaudit.8)"
cmp -s "$SOCKAUDIT" "$dest/usr/local/sbin/sockaudit" || fail "the installed binary is not the built one"

# the man page: roff that groff reads without errors, with operations.md's sections
groff -k -t -man -z "$dest/usr/local/share/man/man8/sockaudit.8" 2>"$WORKDIR/groff.err" \
	|| fail "groff: $(cat "$WORKDIR/groff.err")"
grep -iq "error" "$WORKDIR/groff.err" && fail "groff: $(cat "$WORKDIR/groff.err")"
page=$(MANWIDTH=100 man -l "$dest/usr/local/share/man/man8/sockaudit.8" 2>/dev/null)
for s in NAME COMMANDS OPTIONS "EXIT STATUS" "RUNNING AS A SERVICE"; do
	grep -q "^$s" <<<"$page" || fail "man page has no section $s"
done

# the unit, offline (PID 1 is not systemd here): the paths it names point into DESTDIR
grep -q '^ExecStart=/usr/local/sbin/sockaudit run -c /etc/sockaudit/sockaudit.yaml' \
	"$dest/lib/systemd/system/sockaudit.service" || fail "ExecStart"
mkdir "$WORKDIR/check"
sed -e "s|/usr/local/sbin/|$dest/usr/local/sbin/|g" "$dest/lib/systemd/system/sockaudit.service" \
	> "$WORKDIR/check/sockaudit.service"
MANPATH=$dest/usr/local/share/man systemd-analyze verify "$WORKDIR/check/sockaudit.service" \
	> "$WORKDIR/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$WORKDIR/verify.out")"
[ ! -s "$WORKDIR/verify.out" ] || fail "systemd-analyze verify said: $(cat "$WORKDIR/verify.out")"
# a broken unit is refused (the check can fail)
sed 's/^Type=notify/Type=notifyy/' "$WORKDIR/check/sockaudit.service" > "$WORKDIR/check/broken.service"
MANPATH=$dest/usr/local/share/man systemd-analyze verify "$WORKDIR/check/broken.service" \
	> "$WORKDIR/broken.out" 2>&1 || true
grep -q "Failed to parse service type" "$WORKDIR/broken.out" || fail "verify did not flag Type=notifyy"
score=$(systemd-analyze security --offline=true "$WORKDIR/check/sockaudit.service" 2>/dev/null | awk '/Overall exposure level/ { print $(NF-2) }')
[ -n "$score" ] || fail "no exposure score"
echo "exposure score: $score"

# a second install keeps an edited config; uninstall keeps config and logs
echo "# edited" >> "$dest/etc/sockaudit/sockaudit.yaml"
mk install
grep -q '^# edited' "$dest/etc/sockaudit/sockaudit.yaml" || fail "install overwrote the edited config"
mk uninstall
for f in /usr/local/sbin/sockaudit /usr/local/share/man/man8/sockaudit.8 /lib/systemd/system/sockaudit.service; do
	[ ! -e "$dest$f" ] || fail "uninstall left $f"
done
[ -e "$dest/etc/sockaudit/sockaudit.yaml" ] && [ -d "$dest/var/log/sockaudit" ] || fail "uninstall removed the config or the logs"
echo "ok: install modes, man page, unit verified (exposure $score), uninstall"
