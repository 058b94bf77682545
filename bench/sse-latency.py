#!/usr/bin/env python3
"""Time from a delta's arrival to its event line on a streaming tool's stdout.

usage: python3 sse-latency.py PORT COUNT GAP_MS CMD [ARG...]

Listens on 127.0.0.1:PORT, runs CMD (which must send one OpenAI chat
completion request with "stream": true to that port), and answers it with a
server-sent event stream: a role chunk, a warm-up delta, then COUNT content
deltas GAP_MS apart, each carrying the monotonic time (ns) at which it was
written to the socket, then a finish chunk and [DONE].  CMD's stdout is read
as it comes; each line is timestamped on arrival, and every text event whose
delta holds a stamp gives one latency sample.  Prints the median, p90, p99
and max in microseconds; exits 1 when fewer samples than COUNT came back,
or when CMD failed.  Both clocks are this process's CLOCK_MONOTONIC.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

CHUNK = ('{"id":"chatcmpl-lat","object":"chat.completion.chunk","created":0,'
         '"model":"gpt-4o-mini","choices":[{"index":0,"delta":%s,'
         '"finish_reason":%s}]%s}')


def event(delta, finish="null", usage=""):
    return ("data: " + CHUNK % (delta, finish, usage) + "\n\n").encode()


def serve(lsock, count, gap, failed):
    try:
        conn, _ = lsock.accept()
    except OSError as e:
        failed.append("accept: %s" % e)
        return
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # Read the request head and its body (Content-Length, or chunked until
    # the last chunk) before answering.
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            failed.append("client closed before sending a request")
            return
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
        elif k.strip().lower() == b"transfer-encoding" and \
                b"chunked" in v.lower():
            chunked = True
    while (length is not None and len(body) < length) or \
            (chunked and not body.endswith(b"0\r\n\r\n")):
        d = conn.recv(65536)
        if not d:
            break
        body += d
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")
    conn.sendall(event('{"role":"assistant","content":""}'))
    conn.sendall(event('{"content":"warm-up;"}'))
    for _ in range(count):
        time.sleep(gap)
        stamp = time.monotonic_ns()
        conn.sendall(event('{"content":"%d;"}' % stamp))
    time.sleep(gap)
    conn.sendall(event("{}", '"stop"', ',"usage":{"prompt_tokens":5,'
                       '"completion_tokens":%d,"total_tokens":%d}'
                       % (count + 1, count + 6)))
    conn.sendall(b"data: [DONE]\n\n")
    conn.close()


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    port, count, gap = int(sys.argv[1]), int(sys.argv[2]), \
        float(sys.argv[3]) / 1000
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(4)
    failed = []
    proc = subprocess.Popen(sys.argv[4:], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, bufsize=0)
    server = threading.Thread(target=serve, args=(lsock, count, gap, failed),
                              daemon=True)
    server.start()
    fd = proc.stdout.fileno()
    samples = []
    ends = 0
    pending = b""
    while True:
        d = os.read(fd, 65536)
        now = time.monotonic_ns()
        if not d:
            break
        pending += d
        *lines, pending = pending.split(b"\n")
        for line in lines:
            try:
                ev = json.loads(line)
            except ValueError:
                failed.append("not JSON: %r" % line[:200])
                continue
            if ev.get("type") == "end":
                ends += 1
            elif ev.get("type") == "text":
                delta = ev.get("delta", "")
                if delta.endswith(";") and delta[:-1].isdigit():
                    samples.append((now - int(delta[:-1])) / 1000.0)
            elif ev.get("type") == "error":
                failed.append("error event: %s" % line[:300].decode())
    rc = proc.wait()
    lsock.close()
    if rc != 0:
        failed.append("command exited %d" % rc)
    if len(samples) != count or ends != 1:
        failed.append("%d of %d deltas timed, %d end events"
                      % (len(samples), count, ends))
    if samples:
        s = sorted(samples)

        def q(p):
            return s[min(len(s) - 1, int(p * len(s)))]
        print("delta->line latency over %d deltas %.0f ms apart: median %.0f"
              " us, p90 %.0f us, p99 %.0f us, max %.0f us"
              % (len(s), gap * 1000, q(0.5), q(0.9), q(0.99), s[-1]))
    for f in failed:
        print("sse-latency: " + f, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
