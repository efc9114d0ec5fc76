#!/bin/sh
# GET /cgi-bin/status: one JSON object. bootId changes only on a reboot; uptimeSeconds
# and requests keep growing across save/restore (the guest resumes where it stopped).
n=$(cat /run/requests 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > /run/requests
read -r up _ < /proc/uptime
disk=""
if [ -b /dev/vda ]; then
  disk=$(dd if=/dev/vda bs=512 skip=1 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9 ._:-')
fi
printf 'Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n'
printf '{"name":"%s","address":"%s","bootId":"%s","uptimeSeconds":%s,"requests":%s,"diskLastBoot":"%s"}\n' \
  "$(cat /run/name)" "$(cat /run/address)" "$(cat /run/boot-id)" "$up" "$n" "$disk"
