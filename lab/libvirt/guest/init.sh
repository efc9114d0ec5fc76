#!/bin/sh
# PID 1 of the vMatrix libvirt-lab guest (busybox-static in an initramfs).
# It loads the virtio drivers, takes the address the domain XML gives it on the kernel
# command line (vmx.ip=A.B.C.D/NN vmx.name=NAME), answers UDP on port 2302 as a game server
# (udp-echo), and serves HTTP on port 80 with a
# status page whose boot id and uptime/request counter tell a resumed guest (same boot
# id, larger uptime, counter continues) from a rebooted one (new boot id, counter at 1).
export PATH=/bin
/bin/busybox mkdir -p /proc /sys /dev /run /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin

log() { echo "vmx-guest: $*" > /dev/console; }

# Module order is computed from the kernel's modules.dep when the image is built.
for m in $(cat /etc/vmx-modules); do
  insmod "/lib/modules/$m.ko" || log "insmod $m failed"
done

IP=""
NAME="guest"
for word in $(cat /proc/cmdline); do
  case "$word" in
    vmx.ip=*) IP="${word#vmx.ip=}" ;;
    vmx.name=*) NAME="${word#vmx.name=}" ;;
  esac
done
hostname "$NAME"
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do usleep 50000; i=$((i + 1)); done
if [ -n "$IP" ]; then
  ip addr add "$IP" dev eth0
else
  log "no vmx.ip= on the kernel command line: no address"
fi
ip link set eth0 up

BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
echo "$BOOT_ID" > /run/boot-id
echo "$NAME" > /run/name
echo "${IP%/*}" > /run/address
echo 0 > /run/requests

# The disk: sector 0 holds the template's label; sector 1 records the last boot, so the
# status page shows the disk that came along with a moved guest.
if [ -b /dev/vda ]; then
  printf 'booted %s %s\n' "$NAME" "$BOOT_ID" | dd of=/dev/vda bs=512 seek=1 count=1 conv=sync,notrunc,fsync 2>/dev/null
fi

mkdir -p /www/cgi-bin
cp /etc/vmx-status.cgi /www/cgi-bin/status
chmod 755 /www/cgi-bin/status
cat > /www/index.html <<HTML
<!doctype html>
<title>$NAME</title>
<h1>vMatrix lab guest $NAME</h1>
<p>address ${IP%/*}, boot id <code>$BOOT_ID</code></p>
<p>Live figures (uptime, request counter): <a href="/cgi-bin/status">/cgi-bin/status</a></p>
HTML
httpd -p 80 -h /www
# The game server (UDP echo): answers every datagram with this guest's name and boot id.
udp-echo 2302 "vmx-game $NAME $BOOT_ID" &
log "ready name=$NAME address=${IP%/*} boot_id=$BOOT_ID"

# PID 1 must never exit (the kernel would panic).
while :; do sleep 3600; done
