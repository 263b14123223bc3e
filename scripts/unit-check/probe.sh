#!/bin/bash
# Runs inside the container (scripts/check-systemd-unit): checks the running chatd.service.
set -u
exec > /probe/probe.log 2>&1
read -r port scheme < /probe/listener
url="$scheme://127.0.0.1:$port"
ok=1
fail() { echo "FAIL $*" | tee -a /probe/summary.txt; ok=0; }
say() { echo "$*" | tee -a /probe/summary.txt; }
prop() { systemctl show chatd -p "$1" --value; }

say "unit: Type=$(prop Type) NotifyAccess=$(prop NotifyAccess) WatchdogUSec=$(prop WatchdogUSec)"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || fail "not active after READY: $(prop ActiveState)/$(prop SubState)"
say "after READY=1: $(prop ActiveState)/$(prop SubState), status: $(prop StatusText)"
code=$(curl -sk -o /dev/null -w '%{http_code}' "$url/healthz")
[ "$code" = 200 ] && say "healthz: 200 at once" || fail "healthz $code"
/opt/chatd/.venv/bin/python /probe/ws_probe.py "$url" >> /probe/summary.txt 2>&1 || fail "register + WebSocket send"
sleep 40  # longer than WatchdogSec=30: without pings systemd would have killed chatd
[ "$(prop NRestarts)" = 0 ] && [ "$(prop ActiveState)" = active ] && say "after 40 s idle: active, 0 restarts (watchdog fed)" || fail "watchdog: $(prop ActiveState), restarts $(prop NRestarts)"
systemctl reload chatd && sleep 1
[ "$(prop ActiveState)" = active ] && say "reload (SIGHUP): still active" || fail "reload"
if systemctl start chatd-backup.service && tar -tf /var/lib/chatd-backup/daily-*.tar | grep -qx manifest.json; then
    say "chatd-backup.service: $(ls /var/lib/chatd-backup) written while chatd serves"
else
    fail "chatd-backup.service: $(systemctl show chatd-backup -p Result --value)"; journalctl -u chatd-backup --no-pager
fi
systemctl stop chatd
say "stop: Result=$(prop Result) ExecMainStatus=$(prop ExecMainStatus)"
[ "$(prop Result)" = success ] || fail "stop result $(prop Result)"
journalctl -u chatd --no-pager -o short-monotonic > /probe/journal.txt
grep -q "event=server.draining" /probe/journal.txt && say "journal: drained on stop" || fail "no drain in the journal"
if grep -E "level=error|level=critical|SIGSYS|[Ss]eccomp|Operation not permitted|mprotect|Traceback" /probe/journal.txt > /probe/denials.txt; then
    fail "denials or errors in the journal: $(head -3 /probe/denials.txt)"
else
    say "journal: no SIGSYS, seccomp, EPERM, mprotect or traceback"
fi
[ $ok = 1 ] && say "RESULT ok" || say "RESULT failed"
systemctl --no-block poweroff
