#!/bin/sh
# GET /cgi-bin/status (lighttpd mod_cgi, as www-data): one JSON object, the same contract
# as the busybox guest's (lab/libvirt/guest/status.cgi). bootId changes only on a reboot;
# uptimeSeconds and requests keep growing across save/restore.
n=$(cat /run/vmx/requests 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > /run/vmx/requests
read -r up _ < /proc/uptime
disk=$(head -n 1 /var/lib/vmx/last-boot 2>/dev/null | tr -cd 'A-Za-z0-9 ._:-')
printf 'Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n'
printf '{"name":"%s","address":"%s","bootId":"%s","uptimeSeconds":%s,"requests":%s,"diskLastBoot":"%s"}\n' \
  "$(cat /run/vmx/name)" "$(cat /run/vmx/address)" "$(cat /run/vmx/boot-id)" "$up" "$n" "$disk"
