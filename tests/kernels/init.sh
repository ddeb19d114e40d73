#!/bin/sh
# /init of the test initramfs: mounts what the sensor needs, runs it against a few real
# syscalls, prints its output between markers on the console, and powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sys/fs/bpf
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t bpf bpf /sys/fs/bpf 2>/dev/null
/bin/busybox mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
export PATH=/bin
mode=$(/bin/busybox cat /attach)
echo "SAKER-KERNEL $(/bin/busybox uname -r)"
/bin/saker --dump=json -U -M 20 -o engine.attach="$mode" >/tmp/out 2>/tmp/err &
pid=$!
i=0
while ! /bin/busybox grep -q 'ready:' /tmp/err 2>/dev/null; do
  i=$((i + 1))
  [ $i -gt 300 ] && break
  /bin/busybox sleep 0.1
  /bin/busybox kill -0 $pid 2>/dev/null || break
done
/bin/busybox cat /etc/marker-file-saker >/dev/null
/bin/busybox sleep 0.5
/bin/busybox kill -INT $pid 2>/dev/null
wait $pid
echo "SAKER-RC $?"
echo "SAKER-STDERR-BEGIN"
/bin/busybox cat /tmp/err
echo "SAKER-STDERR-END"
echo "SAKER-STDOUT-BEGIN"
/bin/busybox grep -E 'marker-file-saker|sched_process_exec' /tmp/out | /bin/busybox head -n 50
echo "SAKER-STDOUT-END"
/bin/busybox poweroff -f
