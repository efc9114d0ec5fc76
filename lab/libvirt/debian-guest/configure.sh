#!/bin/sh
# Run inside the freshly debootstrapped root (chroot) by debian-guest.ts: turns a
# minimal Debian 12 into the lab's service guest. Files it installs were copied to
# /tmp/vmx by the builder.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

install -m 0755 /tmp/vmx/vmx-guest-setup /usr/local/sbin/vmx-guest-setup
install -m 0644 /tmp/vmx/vmx-guest.service /etc/systemd/system/vmx-guest.service
install -d -m 0755 /usr/lib/cgi-bin
install -m 0755 /tmp/vmx/status.cgi /usr/lib/cgi-bin/status
install -m 0755 /tmp/vmx/system-state.cgi /usr/lib/cgi-bin/system-state
install -m 0755 /tmp/vmx/boot-time.cgi /usr/lib/cgi-bin/boot-time
systemctl enable vmx-guest.service

# lighttpd serves /cgi-bin/ through mod_cgi (Debian's conf-available/10-cgi.conf).
ln -sf ../conf-available/10-cgi.conf /etc/lighttpd/conf-enabled/10-cgi.conf
cat > /var/www/html/index.html <<'HTML'
<!doctype html>
<title>vMatrix lab service guest</title>
<h1>vMatrix lab service guest (Debian 12, systemd, lighttpd)</h1>
<p>Live figures (name, address, boot id, uptime, request counter): <a href="/cgi-bin/status">/cgi-bin/status</a></p>
HTML

# Root is the whole virtio disk (no partition table), checked at boot like any server's.
cat > /etc/fstab <<'FSTAB'
/dev/vda / ext4 rw,errors=remount-ro 0 1
FSTAB
echo "guest" > /etc/hostname
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
# No password anywhere: the lab reaches the guest over HTTP only (root is locked).
passwd -l root >/dev/null
# A fresh machine id on every guest's first boot, as cloud images do.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# What a built image need not carry: package caches, lists, documentation.
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/log/*.log /tmp/vmx
