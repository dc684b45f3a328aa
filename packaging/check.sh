#!/usr/bin/env bash
# The packaging checks, the last step of `.ci/run` (also runnable alone, as root, on Debian):
#   1. build both packages (packaging/build.sh);
#   2. the .deb's control data, file list, modes, conffiles and maintainer scripts;
#   3. the .rpm's file list, modes, config flags and scriptlets, and its extracted layout against
#      the .deb's;
#   4. `systemd-analyze verify` on the packaged unit;
#   5. a real install of the .deb into a throwaway Debian 12 root (mmdebstrap; the root's tarball
#      is cached), the installed binary started there as the service user against the RouterOS
#      simulator until /readyz answers 200, an upgrade to a rebuilt package keeping a modified
#      conffile, removal and purge keeping the data;
#   6. the vendor template (plugins/template) built on its own and loaded by the packaged binary.
# Cached between runs under /var/cache/lpsaring: the packaging tools, the Debian root's tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="${LPSARING_CACHE:-/var/cache/lpsaring}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# cargo-deb for the upgrade step, where build.sh installed it.
export PATH="${LPSARING_TOOLS:-$cache/tools}/bin:$PATH"
started=$(date +%s)
step() { printf '\n==> packaging: %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
fail() { echo "packaging check FAILED: $*" >&2; exit 1; }
checks=0
pass() { checks=$((checks + 1)); }

need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return
    [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need rpm rpm
need rpm2cpio rpm2cpio
need cpio cpio
need mmdebstrap mmdebstrap
need curl curl

work=$(mktemp -d /tmp/lpsaring-pkgcheck.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step "build the packages"
# LPSARING_CHECK_PREBUILT=1 checks the packages an earlier packaging/build.sh left.
[ -n "${LPSARING_CHECK_PREBUILT:-}" ] || packaging/build.sh
out="$root/target/packages"
deb=$(ls "$out"/lpsaring_*_amd64.deb)
rpm_file=$(ls "$out"/lpsaring-*.x86_64.rpm)
crate=$(ls "$out"/lpsaring-plugin-api-*.crate)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
ls -l "$deb" "$rpm_file" "$crate"

# --- the .deb, statically -------------------------------------------------------------------
step "deb: control, file list, modes, conffiles, scripts"
dpkg-deb -I "$deb" > "$work/deb-info"
for field in "Package: lpsaring" "Version: $version-1" "Architecture: amd64" "Section: net"; do
    grep -qx " $field" "$work/deb-info" || fail "deb control lacks '$field'"; pass
done
grep -q '^ Depends:.*systemd-sysusers' "$work/deb-info" || fail "deb does not depend on systemd-sysusers"; pass
grep -q '^ Depends:.*libc6' "$work/deb-info" || fail "deb does not depend on libc6"; pass

# "mode owner/group path", one line per entry.
# cargo-deb writes numeric owners (0/0): the same as root/root.
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sed 's# \./# /#; s# 0/0 # root/root #' > "$work/deb-files"
expect_file() { # list, mode, owner, path
    grep -qxF -e "$2 $3 $4" "$1" || fail "$(basename "$1"): no '$2 $3 $4'; has: $(grep -F -e "$4" "$1" || echo nothing)"
    pass
}
# The binary and the plugins, the same in both packages.
expect_programs() { # list
    expect_file "$1" -rwxr-xr-x root/root /usr/bin/lpsaring
    for p in whatsapp-fonnte whatsapp-cloud payment-midtrans payment-tripay; do
        expect_file "$1" -rw-r--r-- root/root "/usr/lib/lpsaring/plugins/$p.so"
    done
    for p in console payment-sandbox; do
        expect_file "$1" -rw-r--r-- root/root "/usr/lib/lpsaring/plugins-dev/$p.so"
    done
}
expect_programs "$work/deb-files"
[ "$(grep -c '/usr/lib/lpsaring/plugins/.*\.so$' "$work/deb-files")" = 4 ] ||
    fail "the vendor plugin folder holds other files than the four vendor plugins"
pass
expect_file "$work/deb-files" -rw-r----- root/root /etc/lpsaring/lpsaring.toml
expect_file "$work/deb-files" -rw-r--r-- root/root /usr/lib/sysusers.d/lpsaring.conf
expect_file "$work/deb-files" -rw-r--r-- root/root /usr/lib/tmpfiles.d/lpsaring.conf
unit_path=$(grep -o '/[a-z/]*/systemd/system/lpsaring.service' "$work/deb-files") ||
    fail "deb has no lpsaring.service"
expect_file "$work/deb-files" -rw-r--r-- root/root "$unit_path"
expect_file "$work/deb-files" -rw-r--r-- root/root /usr/share/doc/lpsaring/examples/nginx-lpsaring.conf

dpkg-deb -e "$deb" "$work/deb-control"
grep -qx /etc/lpsaring/lpsaring.toml "$work/deb-control/conffiles" || fail "the config is not a conffile"
pass
for script in postinst postrm prerm; do
    [ -f "$work/deb-control/$script" ] || fail "deb has no $script"
    sh -n "$work/deb-control/$script" || fail "$script is not valid sh"
    ! grep -q '#DEBHELPER#' "$work/deb-control/$script" || fail "$script: #DEBHELPER# not expanded"
    ! grep -Eq 'rm .*(/var/lib/lpsaring|\$datadir)' "$work/deb-control/$script" || fail "$script deletes the data"
    pass
done
grep -q 'deb-systemd-helper' "$work/deb-control/postinst" || fail "postinst lacks the systemd fragment"
grep -q 'systemd-sysusers' "$work/deb-control/postinst" || fail "postinst creates no user"
grep -q '/run/systemd/system' "$work/deb-control/postinst" || fail "postinst starts without checking for systemd"
pass

# --- the .rpm, statically, and its layout against the .deb's --------------------------------
step "rpm: file list, modes, config flags, scriptlets, layout"
rpm -qp --queryformat '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n' "$rpm_file" | grep -qx "lpsaring $version 1 x86_64" ||
    fail "rpm name/version: $(rpm -qp --queryformat '%{NAME} %{VERSION} %{RELEASE} %{ARCH}' "$rpm_file")"
pass
rpm -qlpv "$rpm_file" | awk '{print $1, $3"/"$4, $9}' > "$work/rpm-files"
expect_programs "$work/rpm-files"
expect_file "$work/rpm-files" -rw-r----- root/lpsaring /etc/lpsaring/lpsaring.toml
expect_file "$work/rpm-files" -rw-r--r-- root/root /usr/lib/systemd/system/lpsaring.service
rpm -qp --configfiles "$rpm_file" | grep -qx /etc/lpsaring/lpsaring.toml || fail "rpm: the config is not %config"
rpm -qp --queryformat '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_file" | grep -q '^cn /etc/lpsaring/lpsaring.toml$' ||
    fail "rpm: the config is not %config(noreplace)"
pass
rpm -qp --scripts "$rpm_file" > "$work/rpm-scripts"
for part in "preinstall scriptlet" "postinstall scriptlet" "preuninstall scriptlet" "postuninstall scriptlet"; do
    grep -q "^$part" "$work/rpm-scripts" || fail "rpm has no $part"; pass
done
grep -q 'useradd' "$work/rpm-scripts" || fail "rpm creates no user"
! grep -Eq 'rm .*/var/lib/lpsaring' "$work/rpm-scripts" || fail "rpm scriptlets delete the data"
pass
mkdir "$work/rpmroot" "$work/debroot"
# Debian's rpm2cpio exits 1 after writing a zstd payload in full; what it wrote is checked
# file by file against the .deb just below.
(cd "$work/rpmroot" && { rpm2cpio "$rpm_file" || true; } | cpio -idm --quiet)
dpkg-deb -x "$deb" "$work/debroot"
# Same files in both, apart from where each distribution keeps units and docs.
layout() { (cd "$1" && find . -type f | sed 's#^\./#/#; s#^/lib/systemd#/usr/lib/systemd#' | grep -v '^/usr/share/doc/' | sort); }
diff <(layout "$work/debroot") <(layout "$work/rpmroot") || fail "the .deb and the .rpm install different files"
pass
cmp "$work/debroot/usr/bin/lpsaring" "$work/rpmroot/usr/bin/lpsaring" || fail "the packages carry different binaries"
pass

step "systemd-analyze verify the unit"
# The unit names /usr/bin/lpsaring, which is inside the extracted package, not on this host.
sed "s#/usr/bin/lpsaring#$work/debroot/usr/bin/lpsaring#g" "$work/debroot$unit_path" > "$work/lpsaring.service"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$work/lpsaring.service" 2>&1 | tee "$work/verify.log"
! grep -v 'No such file or directory\|Failed to prepare filename' "$work/verify.log" | grep -q . ||
    fail "systemd-analyze verify complained"
grep -qx 'Type=notify' "$work/debroot$unit_path" || fail "the unit is not Type=notify"
pass

# --- a real install in a throwaway Debian root ----------------------------------------------
step "throwaway Debian 12 root"
tarball="$cache/debian-bookworm-sysusers.tar.gz"
if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    mmdebstrap --quiet --variant=apt --include=systemd-standalone-sysusers bookworm "$cache/debian-bookworm-sysusers.tmp.tar.gz"
    mv "$cache/debian-bookworm-sysusers.tmp.tar.gz" "$tarball"
fi
chroot_dir="$work/debian"
mkdir "$chroot_dir"
tar -xzf "$tarball" -C "$chroot_dir"
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$chroot_dir" "$@"; }
cp "$deb" "$chroot_dir/tmp/lpsaring.deb"

step "install the .deb (no systemd running)"
in_root dpkg -i /tmp/lpsaring.deb | tee "$work/install.log"
in_root getent passwd lpsaring | grep -q ':/var/lib/lpsaring:' || fail "no lpsaring user with home /var/lib/lpsaring"
pass
stat_of() { in_root stat -c '%a %U:%G' "$1"; }
[ "$(stat_of /var/lib/lpsaring)" = "750 lpsaring:lpsaring" ] || fail "/var/lib/lpsaring is $(stat_of /var/lib/lpsaring)"
[ "$(stat_of /etc/lpsaring/lpsaring.toml)" = "640 root:lpsaring" ] || fail "config is $(stat_of /etc/lpsaring/lpsaring.toml)"
[ "$(stat_of /usr/lib/lpsaring/plugins/payment-midtrans.so)" = "644 root:root" ] || fail "plugin modes"
pass
[ -L "$chroot_dir/etc/systemd/system/multi-user.target.wants/lpsaring.service" ] || fail "the service is not enabled"
pass

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sim_port=$(free_port)
http_port=$(free_port)
service_env=(LPSARING_HTTP__LISTEN="127.0.0.1:$http_port" LPSARING_ROUTER__ADDRESS="127.0.0.1:$sim_port"
    LPSARING_ROUTER__USERNAME=lpsaring LPSARING_ROUTER__PASSWORD=check-password)
# As systemd would: migrations, then `serve`, as the service user with the packaged config and
# the unit's UMask. (A plain command line, not a function, for `serve &`: then $! is the service.)
umask 027
service_cmd=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${service_env[@]}"
    chroot --userspec=lpsaring:lpsaring "$chroot_dir" /usr/bin/lpsaring --config /etc/lpsaring/lpsaring.toml)
as_service() { "${service_cmd[@]}" "$@"; }

start_and_wait_ready() { # log file
    as_service migrate up
    "${service_cmd[@]}" serve > "$1" 2>&1 &
    service_pid=$!
    pids+=("$service_pid")
    local t0 code
    t0=$(date +%s)
    for _ in $(seq 1 120); do
        code=$(curl -s -o "$work/readyz.json" -w '%{http_code}' "http://127.0.0.1:$http_port/readyz" || true)
        [ "$code" = 200 ] && break
        kill -0 "$service_pid" 2>/dev/null || { cat "$1"; fail "the installed service exited"; }
        sleep 0.5
    done
    [ "$code" = 200 ] || { cat "$1" "$work/readyz.json"; fail "/readyz never answered 200"; }
    echo "/readyz 200 after $(( $(date +%s) - t0 ))s: $(cat "$work/readyz.json")"
    # Connected to the simulator (its set-up may still differ from the portal's: degraded, not down).
    grep -q '"name":"router","status":"[a-z]*","detail":"connected' "$work/readyz.json" ||
        fail "the router is not connected to the simulator"
    pass
}
stop_service() {
    kill "$service_pid"
    wait "$service_pid" || true
    ! kill -0 "$service_pid" 2>/dev/null || fail "the service did not stop"
}

step "start the installed binary as lpsaring against the simulator"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$chroot_dir" /usr/bin/lpsaring sim \
    --listen "127.0.0.1:$sim_port" --user lpsaring --password check-password --hosts 3 > "$work/sim.log" 2>&1 &
pids+=("$!")
start_and_wait_ready "$work/serve1.log"
as_service plugins list | tee "$work/plugins.log"
[ "$(grep -c ' loaded ' "$work/plugins.log")" = 4 ] || fail "the four vendor plugins do not all load"
pass
stop_service
[ "$(stat_of /var/lib/lpsaring/lpsaring.db)" = "640 lpsaring:lpsaring" ] ||
    fail "database file is $(stat_of /var/lib/lpsaring/lpsaring.db)"
pass

step "upgrade to a rebuilt package: the modified conffile survives"
echo '# edited by the operator' >> "$chroot_dir/etc/lpsaring/lpsaring.toml"
upgrade_deb="$work/lpsaring_$version-2_amd64.deb"
(cd app && cargo deb --no-build --locked --deb-revision 2 --output "$upgrade_deb" >/dev/null)
cp "$upgrade_deb" "$chroot_dir/tmp/lpsaring-2.deb"
in_root dpkg -i /tmp/lpsaring-2.deb
in_root dpkg-query -W -f '${Version}\n' lpsaring | grep -qx "$version-2" || fail "the upgrade did not install"
grep -qx '# edited by the operator' "$chroot_dir/etc/lpsaring/lpsaring.toml" || fail "the upgrade replaced the edited config"
[ "$(stat_of /etc/lpsaring/lpsaring.toml)" = "640 root:lpsaring" ] || fail "config after upgrade is $(stat_of /etc/lpsaring/lpsaring.toml)"
[ -s "$chroot_dir/var/lib/lpsaring/lpsaring.db" ] || fail "the upgrade lost the database"
pass
start_and_wait_ready "$work/serve2.log"
stop_service

step "remove, then purge: the data stays"
in_root dpkg -r lpsaring
[ ! -e "$chroot_dir/usr/bin/lpsaring" ] || fail "remove left the binary"
[ -s "$chroot_dir/var/lib/lpsaring/lpsaring.db" ] || fail "remove deleted the database"
pass
in_root dpkg -P lpsaring | tee "$work/purge.log"
[ -s "$chroot_dir/var/lib/lpsaring/lpsaring.db" ] && [ -s "$chroot_dir/var/lib/lpsaring/state.redb" ] ||
    fail "purge deleted the data"
grep -q '/var/lib/lpsaring' "$work/purge.log" || fail "purge does not say where the data stays"
[ ! -e "$chroot_dir/etc/lpsaring/lpsaring.toml" ] || fail "purge left the config"
pass

# --- the vendor template ---------------------------------------------------------------------
step "vendor template: built on its own, tested, loaded by the packaged binary"
(cd plugins/template && cargo test --locked --quiet && cargo build --release --locked --quiet)
template_so="$CARGO_TARGET_DIR/release/liblpsaring_plugin_example_whatsapp.so"
"$work/debroot/usr/bin/lpsaring" plugins check "$template_so" | tee "$work/template.log"
grep -q 'would load: example-whatsapp' "$work/template.log" || fail "the host does not load the template plugin"
pass

step "done"
echo "$checks passed, 0 failed"
