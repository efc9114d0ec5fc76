#!/bin/sh
# GET /cgi-bin/system-state: systemd's own word on the boot ("starting" until every unit
# of the boot has started, then "running" or "degraded"). The benchmark saves a Nest VM
# only once it is fully booted, as a pre-booted server would be.
printf 'Content-Type: text/plain\r\nCache-Control: no-store\r\n\r\n'
systemctl is-system-running 2>/dev/null || true
