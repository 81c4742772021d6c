# The sandbox keeper: pid 1 of the sandbox's outer pid namespace, root in the
# sandbox's outer user namespace (the one the student's namespaces descend from).
# It builds the outside world, starts the student's Docker host with bwrap, then
# waits.  Killing it makes the kernel kill everything of the sandbox.
#
# stdin:  the daemon's go/answers; fd 1: progress lines for the daemon;
# $1: file with bwrap's NUL-separated arguments; $2: file with the host's init script;
# $3: namespace limit; $4: map for the student's user namespace ("0 0 65536");
# $5: the Docker host's /etc template; $6: the nslab-guest binary (the outside world's DNS server).
set -eu
mount -t tmpfs -o mode=0755,size=16m nslab /run
mkdir -p /run/netns /run/www /run/sys
mount -t sysfs sysfs /run/sys
cp -R "$5" /run/etc
for ns in user net mnt pid uts ipc cgroup; do
  echo "$3" > /proc/sys/user/max_${ns}_namespaces
done
echo "nslab remote web server" > /run/www/index.html

# The Docker host: bwrap creates the student's user namespace and waits on fd 4
# until its id map is written below.
mkfifo /run/userns-ready /run/host.info
bwrap --args 5 --info-fd 3 --userns-block-fd 4 -- /bin/sh /dev/fd/8 \
  4</run/userns-ready 3>/run/host.info 5<"$1" 8<"$2" 6>&1 </dev/null &
exec 7>/run/userns-ready
hpid=$(sed -n 's/.*"child-pid": *\([0-9]*\).*/\1/p' /run/host.info)
[ "$4" != "0 0 1" ] || echo deny > /proc/$hpid/setgroups
echo "$4" > /proc/$hpid/uid_map
echo "$4" > /proc/$hpid/gid_map
echo go >&7
exec 7>&-
echo "host $hpid"

ip -batch - <<BATCH
netns add remote
netns add client
netns attach host $hpid
link set lo up
link add eth0 type veth peer name eth0 netns host
link add eth1 type veth peer name eth0 netns remote
link add eth2 type veth peer name eth0 netns client
addr add 203.0.113.1/24 dev eth0
addr add 198.51.100.1/24 dev eth1
addr add 192.0.2.1/24 dev eth2
BATCH
# No IPv6 duplicate address detection on the outside world's links: their link-local addresses are
# final at once, instead of changing (a burst of kernel events) a second after the sandbox is ready.
# The Docker host keeps its defaults.
# (Best effort: a kernel without IPv6 has no such files.)
for dev in eth0 eth1 eth2; do echo 0 2>/dev/null > /proc/sys/net/ipv6/conf/$dev/accept_dad || true; done
for ns in remote client; do
  nsenter --net=/run/netns/$ns sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad' 2>/dev/null || true
done
ip -batch - <<BATCH
link set eth0 up
link set eth1 up
link set eth2 up
BATCH
echo 1 > /proc/sys/net/ipv4/ip_forward
ip -n host -batch - <<BATCH
link set eth0 up
addr add 203.0.113.2/24 dev eth0
route add default via 203.0.113.1
BATCH
ip -n remote -batch - <<BATCH
link set lo up
link set eth0 up
addr add 198.51.100.80/24 dev eth0
addr add 198.51.100.53/24 dev eth0
route add default via 198.51.100.1
BATCH
ip -n client -batch - <<BATCH
link set lo up
link set eth0 up
addr add 192.0.2.50/24 dev eth0
route add default via 192.0.2.1
BATCH
nsenter --net=/run/netns/remote busybox httpd -f -vv -p 80 -h /run/www 2>>/run/remote.log </dev/null >/dev/null &
# The Docker host's resolver (its /etc/resolv.conf): a few names of the outside world, each query logged.
# Started by a name of /run's, so that its command line shows no path of the daemon's; in a subshell,
# so that the keeper does not wait for the link.
(
  ln -s "$6" /run/nslab-dnsd
  exec /run/nslab-dnsd /run/netns/remote 198.51.100.53 /run/remote-dns.log \
    example.test=198.51.100.80 www.example.test=198.51.100.80 client.example.test=192.0.2.50 \
    dns.example.test=198.51.100.53 </dev/null >/dev/null 2>&1
) &
echo outside-ready
exec 1>&- 
wait
