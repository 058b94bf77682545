# What the benchmarks share: sourced by bench/*.sh, run from the
# repository root.  $fail is set here and read by the sourcing script.
# shellcheck shell=sh disable=SC2034

# bench_init NAME: $T, a new directory that goes, nginx with it, on exit.
bench_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/bench-$1.XXXXXX") || exit 1
	fail=0
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	[ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
	rm -rf "$T"
}

# need_nginx: nginx from Debian on the PATH, or the run ends here.
need_nginx() {
	command -v nginx >/dev/null || PATH=$PATH:/usr/sbin
	if ! command -v nginx >/dev/null; then
		echo "$0: nginx is not installed (apt-get install nginx-light)"
		exit 1
	fi
}

# nginx_start HTTP SERVER PROBE: starts nginx on 127.0.0.1:$port (set
# here) with HTTP added to its http block and SERVER to its server
# block, and waits until a POST to $base$PROBE answers, $base being
# http://127.0.0.1:$port/v1.  Canned answers are files or "return"
# strings (nginx refuses a "return" over 4 KB).
nginx_start() {
	port=$((20000 + $$ % 20000))
	base=http://127.0.0.1:$port/v1
	# The workers may run as another user (nobody when started by
	# root): let them reach the canned files.
	chmod 711 "$T"
	cat > "$T/nginx.conf" <<CONF
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $T/body;
	proxy_temp_path $T/proxy;
	fastcgi_temp_path $T/fastcgi;
	uwsgi_temp_path $T/uwsgi;
	scgi_temp_path $T/scgi;
	keepalive_requests 1000000;
	sendfile on;
	tcp_nodelay on;
$1
	server {
		listen 127.0.0.1:$port;
$2
	}
}
CONF
	nginx -p "$T" -c "$T/nginx.conf" || exit 1
	_i=0
	until curl -sf -o /dev/null -X POST -d '{}' "$base$3"; do
		_i=$((_i + 1))
		[ $_i -lt 50 ] || { echo "$0: nginx did not come up"; exit 1; }
		sleep 0.1
	done
}

# measure NAME CMD...: wall, user+sys CPU and peak RSS of one command, a
# row "NAME wall cpu rss_kb" of $T/results; its output in $T/out.NAME.
measure() {
	name=$1
	shift
	t0=$(date +%s%N)
	if /usr/bin/time -f "%U %S %M" -o "$T/time.$name" "$@" \
	    > "$T/out.$name" 2> "$T/err.$name"; then
		t1=$(date +%s%N)
		read -r u s m < "$T/time.$name"
		echo "$name $(((t1 - t0) / 1000000)) $u $s $m" |
		    awk '{ print $1, $2 / 1000, $3 + $4, $5 }' >> "$T/results"
	else
		echo "$name failed: $(head -c 300 "$T/err.$name")"
		fail=1
	fi
}

# verdict NAME STATUS: a wrong output (what is wrong in $T/check.NAME, if
# anything) fails the run and leaves its row out; the output goes.
verdict() {
	if [ "$2" != 0 ]; then
		[ -s "$T/check.$1" ] &&
		    echo "$1: output is wrong: $(head -c 300 "$T/check.$1")"
		fail=1
		grep -v "^$1 " "$T/results" > "$T/results.new"
		mv "$T/results.new" "$T/results"
	fi
	rm -f "$T/out.$1"
}
