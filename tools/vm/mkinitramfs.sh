#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the guest's initramfs (an uncompressed newc cpio):
#   mkinitramfs.sh OUT.cpio MODULES_DIR BIN_DIR [--perf]
# busybox-static, tools/vm/{init,agent}, the modules at /lib/modules/ksf,
# our tools and the real clients (rpcinfo, socat) on PATH with the shared
# libraries they need; with --perf also perf (linux-perf, about 35 MB with
# its libraries) for ksf-profile, and util-linux's chrt and taskset (the
# workers' policy and CPUs in experiments: Documentation/benchmarks.rst).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 3 ] || [ $# -gt 4 ] || { [ $# -eq 4 ] && [ "$4" != --perf ]; }; then
	echo "usage: mkinitramfs.sh OUT.cpio MODULES_DIR BIN_DIR [--perf]" >&2
	exit 2
fi
out=$1 mods=$2 bins=$3 perf=${4:-}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/etc "$root"/proc \
	"$root"/sys "$root"/dev "$root"/tmp "$root"/run "$root"/root \
	"$root"/lib/modules/ksf "$root"/var/lib/rpcbind
ln -s ../run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
install -m 755 "$here/init" "$root/init"
install -m 755 "$here/agent" "$root/sbin/ksf-agent"
install -m 755 "$here/ksf-knfsd" "$root/usr/bin/ksf-knfsd"
install -m 755 "$here/ksf-sockstate" "$root/usr/bin/ksf-sockstate"
install -m 755 "$here/ksf-kmemleak" "$root/usr/bin/ksf-kmemleak"
install -m 755 "$here/ksf-meminfo" "$root/usr/bin/ksf-meminfo"
install -m 755 "$here/ksf-hotplug" "$root/usr/bin/ksf-hotplug"
install -m 755 "$here/ksf-failinject" "$root/usr/bin/ksf-failinject"
install -m 755 "$here/ksf-profile" "$root/usr/bin/ksf-profile"
for ko in "$mods"/*.ko; do
	[ -e "$ko" ] || continue
	cp "$ko" "$root/lib/modules/ksf/"
	# For ksf-failinject: "NAME 0xSIZE" of every executable section the
	# module keeps after init (its text, one allocation in the guest).
	LC_ALL=C readelf -SW "$ko" | sed 's/^ *\[ *[0-9]*\]//' | awk '
		$1 ~ /^\./ && $1 !~ /^\.init/ && $(NF - 3) ~ /X/ && $(NF - 3) ~ /A/ {
			printf "%s 0x%s\n", $1, $5
		}' >"$root/lib/modules/ksf/$(basename "$ko" .ko).text"
done

progs="/usr/sbin/rpcinfo /usr/sbin/rpcbind /usr/bin/socat"
[ -z "$perf" ] || progs="$progs /usr/bin/perf /usr/bin/chrt /usr/bin/taskset"
for b in "$bins"/*; do
	[ -f "$b" ] && [ -x "$b" ] && progs="$progs $b"
done
for prog in $progs; do
	[ -x "$prog" ] || { echo "mkinitramfs: missing $prog (run 'make deps')" >&2; exit 1; }
	cp "$prog" "$root/usr/bin/"
	# "libx.so => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)"
	for lib in $(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done

# rpcbind (for knfsd, see tools/vm/ksf-knfsd) drops root for _rpc.
printf 'root:x:0:0:root:/root:/bin/sh\n_rpc:x:102:65534::/run/rpcbind:/bin/false\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$root/etc/hosts"
echo "hosts: files" >"$root/etc/nsswitch.conf"
# libtirpc (rpcinfo) reads the transport list from /etc/netconfig.
cp /etc/netconfig "$root/etc/netconfig"
[ -f /etc/services ] && cp /etc/services "$root/etc/services"
[ -f /etc/protocols ] && cp /etc/protocols "$root/etc/protocols"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
