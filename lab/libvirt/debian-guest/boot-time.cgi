#!/bin/sh
# GET /cgi-bin/boot-time: where this guest's boot went (kernel, initrd, userspace; the
# slowest units), from systemd once the boot is over.
printf 'Content-Type: text/plain\r\nCache-Control: no-store\r\n\r\n'
systemd-analyze time 2>&1
systemd-analyze blame --no-pager 2>&1 | head -n 15
systemd-analyze critical-chain --no-pager lighttpd.service 2>&1
