#!/usr/bin/env bash
# tests/package/test_package.sh - the Debian packages end to end on this
# machine (Debian 12, root; CI runs it from .ci/run):
#
#   build     scripts/build-deb from a clean copy of the checkout (the build
#             runs the unit tests); the version is CMake's project version
#   lintian   binary and source packages: no error, no warning that is not
#             overridden with a reason in debian/
#   install   apt-get install ./dnsd_*.deb ./dnsdctl_*.deb; files, owners,
#             modes, conffiles, the dnsd user; systemd-analyze verify
#   run       the installed dnsd with the installed config as the unit runs
#             it (root, dropping to dnsd), on a free loopback port: queries,
#             a push through the installed dnsdctl, a scrape; stopped by PID
#   remove    binaries gone; conffiles, state and the user stay
#   purge     conffiles, /etc/dnsd and /var/lib/dnsd gone; the user stays
#
# The machine is left as found: the packages are purged on any exit, and the
# dnsd user is deleted again if this test's install created it. It refuses to
# run where dnsd or dnsdctl is installed already. Prints "N passed, N failed".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive
# Waits for dpkg's lock rather than failing while another apt-get runs.
apt=(apt-get -y -qq -o DPkg::Lock::Timeout=300)
passed=0
failed=0
pid=
summarized=0
user_existed=0
tmp=

ok() {
    passed=$((passed + 1))
    printf 'ok     %s\n' "$1"
}
not_ok() {
    failed=$((failed + 1))
    printf 'FAILED %s\n' "$1"
    shift
    (($#)) && printf '       %s\n' "$@"
}
# check NAME COMMAND...: one check; COMMAND's output is shown on failure.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
# stat_is PATH OWNER:GROUP MODE
stat_is() {
    local got
    got=$(stat -c '%U:%G %a' "$1" 2>&1)
    [[ $got == "$2 $3" ]] || {
        echo "$1: $got, want $2 $3"
        return 1
    }
}
known() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^[a-z][a-z]'; }
absent() {
    local p
    for p; do
        [[ ! -e $p && ! -L $p ]] || {
            echo "still there: $p"
            return 1
        }
    done
}

summary() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    summarized=1
}

cleanup() {
    if ((!summarized)); then
        not_ok "the test was interrupted"
        summary
    fi
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
    fi
    if known dnsd || known dnsdctl; then
        "${apt[@]}" purge dnsd dnsdctl >/dev/null 2>&1
    fi
    if ((!user_existed)) && getent passwd dnsd >/dev/null; then
        userdel dnsd
        getent group dnsd >/dev/null && groupdel dnsd
    fi
    [[ -n $tmp ]] && rm -rf "$tmp"
}

if ((EUID != 0)); then
    echo "test_package: needs root (it installs and purges the packages)" >&2
    exit 2
fi
# One run at a time on a machine: the packages are system-wide.
exec 9>/run/lock/dnsd-package-test.lock
flock -w 600 9 || {
    echo "test_package: another run holds /run/lock/dnsd-package-test.lock" >&2
    exit 2
}
if known dnsd || known dnsdctl; then
    echo "test_package: dnsd or dnsdctl is installed here; purge it first" >&2
    exit 2
fi
getent passwd dnsd >/dev/null && user_existed=1
tmp=$(mktemp -d /tmp/dnsd-pkg.XXXXXX)
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- build -----------------------------------------------------------------
version=$(grep '^project' "$root/CMakeLists.txt" | grep -o 'VERSION [0-9.]*' | cut -c9-)
# What scripts/build-deb builds: the tracked files as in the working tree.
rev=$(git -C "$root" stash create)
rev=${rev:-HEAD}
if ! "$root/scripts/build-deb" --out "$tmp/out" >"$tmp/build-deb.log" 2>&1; then
    not_ok "build: scripts/build-deb" "$(tail -n 40 "$tmp/build-deb.log")"
    summary
    exit 1
fi
ok "build: scripts/build-deb"
# The version has one source: a changelog that disagrees stops the build.
mkdir "$tmp/vchk"
git -C "$root" archive "$rev" debian CMakeLists.txt | tar -x -C "$tmp/vchk"
sed -i 's/^project(dnsd VERSION [0-9.]*/project(dnsd VERSION 99.0.0/' "$tmp/vchk/CMakeLists.txt"
version_guard() {
    local out
    if out=$(cd "$tmp/vchk" && debian/rules override_dh_auto_configure 2>&1); then
        echo "the build went on: $out"
        return 1
    fi
    grep -q 'add a changelog entry (dch -v 99.0.0)' <<<"$out" || {
        echo "$out"
        return 1
    }
}
check "build: a CMake version the changelog lacks stops the build" version_guard
deb=$tmp/out/dnsd_${version}_$(dpkg --print-architecture).deb
ctl=$tmp/out/dnsdctl_${version}_$(dpkg --print-architecture).deb
check "build: packages carry the CMake project version $version" test -f "$deb" -a -f "$ctl"
check "build: dnsd-dbgsym built" compgen -G "$tmp/out/dnsd-dbgsym_${version}_*.deb"
check "build: dh_auto_test ran the unit tests" \
    grep -q '100% tests passed, 0 tests failed' "$tmp/out/build.log"

# --- lintian ---------------------------------------------------------------
# The source package too (3.0 native, from the same tree): its tags concern
# debian/ itself, and debian/source/lintian-overrides would hold its reasons.
mkdir -p "$tmp/src/dnsd"
git -C "$root" archive "$rev" | tar -x -C "$tmp/src/dnsd"
(cd "$tmp/src" && dpkg-source -q -b dnsd >/dev/null 2>&1)
lint() { (cd "$tmp" && lintian --fail-on error,warning "$@"); }
check "lintian: binary packages" lint "$tmp"/out/*.changes
check "lintian: source package" lint "$tmp"/src/dnsd_*.dsc

# --- install ---------------------------------------------------------------
if ! "${apt[@]}" install "$deb" "$ctl" >"$tmp/install.log" 2>&1; then
    not_ok "install: apt-get install ./dnsd_*.deb ./dnsdctl_*.deb" "$(tail -n 20 "$tmp/install.log")"
    summary
    exit 1
fi
ok "install: apt-get install ./dnsd_*.deb ./dnsdctl_*.deb"
check "install: dnsd --version is the package's" \
    bash -c "/usr/sbin/dnsd --version 2>&1 | grep -qw '$version'"
check "install: /usr/sbin/dnsd" stat_is /usr/sbin/dnsd root:root 755
check "install: /usr/bin/dnsdctl" stat_is /usr/bin/dnsdctl root:root 755
check "install: dnsd.service" stat_is /lib/systemd/system/dnsd.service root:root 644
check "install: /etc/dnsd" stat_is /etc/dnsd root:root 755
check "install: /etc/dnsd/dnsd.yaml" stat_is /etc/dnsd/dnsd.yaml root:dnsd 640
check "install: /etc/dnsd/pool.ntp.org.zone" stat_is /etc/dnsd/pool.ntp.org.zone root:dnsd 640
check "install: /var/lib/dnsd" stat_is /var/lib/dnsd dnsd:dnsd 750
check "install: man pages" test -f /usr/share/man/man8/dnsd.8.gz -a \
    -f /usr/share/man/man5/dnsd.yaml.5.gz -a -f /usr/share/man/man8/dnsdctl.8.gz
check "install: the config is the example" \
    cmp /etc/dnsd/dnsd.yaml /usr/share/doc/dnsd/examples/dnsd.yaml
conffiles=$(dpkg-query -W -f='${Conffiles}' dnsd)
check "install: both files in /etc/dnsd are conffiles" bash -c \
    "grep -q ' /etc/dnsd/dnsd.yaml ' <<<'$conffiles' && grep -q ' /etc/dnsd/pool.ntp.org.zone ' <<<'$conffiles'"
check "install: dnsdctl holds the tool alone" bash -c \
    "dpkg -L dnsdctl | grep -E '^/usr/(s?bin|lib)/.' | grep -vx /usr/bin/dnsdctl | (! grep .)"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd dnsd)
check "install: dnsd is a system user" test -n "$uid" -a "${uid:-1000}" -lt 1000 \
    -a "${uid:-0}" -gt 0
check "install: dnsd has its own group" test "$(getent group dnsd | cut -d: -f3)" = "${gid:-x}"
check "install: dnsd cannot log in, home /var/lib/dnsd" \
    test "$shell" = /usr/sbin/nologin -a "$home" = /var/lib/dnsd
check "install: the unit is enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/dnsd.service
verify_out=$(systemd-analyze verify /lib/systemd/system/dnsd.service 2>&1)
check "install: systemd-analyze verify dnsd.service, no output" \
    test "$?" = 0 -a -z "$verify_out"
[[ -n $verify_out ]] && printf '       %s\n' "$verify_out"
check "install: dnsd -c /etc/dnsd/dnsd.yaml --check" /usr/sbin/dnsd -c /etc/dnsd/dnsd.yaml --check

# An operator's edit survives a reinstall (an upgrade's conffile handling),
# and the modes are set again.
echo "# edited by the operator" >>/etc/dnsd/dnsd.yaml
"${apt[@]}" install --reinstall "$deb" >"$tmp/reinstall.log" 2>&1
check "install: reinstall" test "$?" = 0
check "install: the edited conffile is kept" \
    bash -c "tail -n 1 /etc/dnsd/dnsd.yaml | grep -qx '# edited by the operator'"
check "install: its owner and mode are kept" stat_is /etc/dnsd/dnsd.yaml root:dnsd 640

# --- run -------------------------------------------------------------------
# The unit runs `dnsd -c /etc/dnsd/dnsd.yaml` as root in /run/dnsd's world.
# The config listens on port 53 and serves metrics on 9153, which a real
# service on this machine may hold: the copy changes only those two and the
# control socket's directory (the unit's RuntimeDirectory).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -m 0755 "$tmp/run"
chmod 0755 "$tmp"
sed -e "s|^listen: .*|listen: [\"127.0.0.1:$port\"]|" \
    -e "s|^metrics: .*|metrics: \"127.0.0.1:$mport\"|" \
    -e "s|/run/dnsd/control.sock|$tmp/run/control.sock|" \
    /etc/dnsd/dnsd.yaml >"$tmp/dnsd.yaml"
chmod 0644 "$tmp/dnsd.yaml"
check "run: the copy differs only in listen, metrics and the socket" bash -c \
    "test \$(diff /etc/dnsd/dnsd.yaml '$tmp/dnsd.yaml' | grep -c '^>') = 3"
/usr/sbin/dnsd -c "$tmp/dnsd.yaml" </dev/null >"$tmp/dnsd.log" 2>&1 &
pid=$!
answered=
for _ in $(seq 50); do
    answered=$(kdig @127.0.0.1 -p "$port" +short +time=1 +retry=0 pool.ntp.org SOA 2>/dev/null)
    [[ -n $answered ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
done
check "run: kdig SOA answered" grep -q '^ns1.pool.ntp.org. hostmaster.pool.ntp.org. ' <<<"$answered"
check "run: the daemon runs as dnsd" \
    bash -c "grep -q '^Uid:[[:space:]]*$uid[[:space:]]$uid[[:space:]]$uid[[:space:]]$uid\$' /proc/$pid/status"
check "run: dig NS answered with aa" \
    bash -c "dig @127.0.0.1 -p $port +norec +time=2 +tries=1 pool.ntp.org NS | grep -q 'flags: qr aa'"
check "run: dnsdctl push of a snapshot" \
    dnsdctl -s "$tmp/run/control.sock" push "$root/config/sample-snapshot.json"
check "run: the pushed snapshot is kept in /var/lib/dnsd, owned by dnsd" bash -c \
    "find /var/lib/dnsd -type f -user dnsd | grep -q ."
check "run: pool answer after the push" bash -c \
    "test \$(kdig @127.0.0.1 -p $port +short +time=2 +retry=0 0.pool.ntp.org A | grep -c .) = 4"
check "run: metrics scrape" bash -c \
    "curl -sf http://127.0.0.1:$mport/metrics | grep -qx 'dnsd_build_info{version=\"$version\"} 1'"
# A reload (systemctl reload: SIGHUP) reads the config and the master file
# again, now as dnsd: root:dnsd 0640 must be enough.
reloaded() {
    local i
    kill -HUP "$pid" || return 1
    for i in $(seq 25); do
        curl -sf "http://127.0.0.1:$mport/metrics" | grep -qx 'dnsd_reloads_total{result="ok"} 1' &&
            return 0
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$mport/metrics" | grep -E '^dnsd_(reloads_total|last_reload)'
    tail -n 5 "$tmp/dnsd.log"
    return 1
}
check "run: SIGHUP reload as dnsd succeeds" reloaded
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
check "run: SIGTERM, exit status 0" test "$rc" = 0
((rc == 0)) || cat "$tmp/dnsd.log"

# --- remove ----------------------------------------------------------------
"${apt[@]}" remove dnsd dnsdctl >"$tmp/remove.log" 2>&1
check "remove: apt-get remove" test "$?" = 0
check "remove: binaries and unit gone" \
    absent /usr/sbin/dnsd /usr/bin/dnsdctl /lib/systemd/system/dnsd.service
check "remove: conffiles stay" test -f /etc/dnsd/dnsd.yaml -a -f /etc/dnsd/pool.ntp.org.zone
check "remove: pushed snapshots stay" bash -c "find /var/lib/dnsd -type f | grep -q ."
check "remove: the user stays" getent passwd dnsd
check "remove: dnsd is in state config-files" \
    bash -c "dpkg-query -W -f='\${db:Status-Abbrev}' dnsd | grep -q '^rc'"

# --- purge -----------------------------------------------------------------
"${apt[@]}" purge dnsd dnsdctl >"$tmp/purge.log" 2>&1
check "purge: apt-get purge" test "$?" = 0
check "purge: /etc/dnsd, /var/lib/dnsd and the unit's links gone" absent /etc/dnsd \
    /var/lib/dnsd /var/log/dnsd /etc/systemd/system/multi-user.target.wants/dnsd.service
check "purge: dpkg forgot both packages" bash -c "! dpkg-query -W dnsd dnsdctl 2>/dev/null | grep -q ."
check "purge: the user stays (Debian's practice for system users)" getent passwd dnsd

summary
((failed == 0))
