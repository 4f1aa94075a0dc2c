#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real servers for the sandbox's peer ("internet") namespace. Standard library only.

  HTTP  TCP 80, 8080   GET /           a small HTML page
                       GET /bytes/N    N bytes of data (written in 1 MiB slices: fast)
                       POST /...       reads the body, answers with its length in bytes
                       HTTP/1.1 keep-alive and Connection: close
                       GET /static/NAME  file NAME of --static-dir (plain names; 404 otherwise),
                                         at most --static-rate bytes per second if given
  echo  TCP 7, UDP 7   sends back what it receives
  discard TCP 9        reads and drops (throughput tests)

Every listener is dual stack (IPv6 socket with V6ONLY off) on all addresses. Prints "ready" on
stdout once every socket is bound and listening; logs go to stderr. SIGTERM/SIGINT end it.
"""

import argparse
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SLICE = 1 << 20
_LINE = b'portcullis sandbox data 0123456789 abcdefghijklmnopqrstuvwxyz\n'
PATTERN = (_LINE * (SLICE // len(_LINE) + 1))[:SLICE]
assert len(PATTERN) == SLICE
PAGE = b'''<!DOCTYPE html>
<html><head><title>Portcullis sandbox peer</title></head>
<body><h1>Portcullis sandbox peer</h1><p>GET /bytes/N for N bytes.</p></body></html>
'''
MAX_BYTES = 1 << 40
VERBOSE = False
STATIC_DIR = None  # --static-dir: files served as GET /static/NAME
STATIC_RATE = 0  # --static-rate: bytes per second for static files (0: as fast as possible)


def log(msg):
    if VERBOSE:
        print(msg, file=sys.stderr, flush=True)


def _family():
    """AF_INET6 when the namespace has IPv6 (dual stack sockets), else AF_INET."""
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
        return socket.AF_INET6
    except OSError:
        return socket.AF_INET


FAMILY = _family()
ANY = '::' if FAMILY == socket.AF_INET6 else '0.0.0.0'


class _DualStack:
    address_family = FAMILY
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # Not HTTPServer.server_bind: it resolves our name (getfqdn), which would wait for DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = 'peer'
        self.server_port = self.server_address[1]


class HttpHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'PortcullisSandbox/1'

    def log_message(self, fmt, *args):
        log('http %s: %s' % (self.client_address[0], fmt % args))

    def do_GET(self):
        self._respond(True)

    def do_HEAD(self):
        self._respond(False)

    def do_POST(self):
        length = self.headers.get('Content-Length')
        if length is None or not length.isdigit():
            self._simple(411, b'Content-Length required\n')
            return
        left = int(length)
        buf = bytearray(SLICE)
        view = memoryview(buf)
        total = 0
        while left > 0:
            n = self.rfile.readinto(view[:min(left, SLICE)])
            if not n:
                break
            total += n
            left -= n
        self._simple(200, f'{total}\n'.encode())

    def _simple(self, code, body, ctype='text/plain', send_body=True):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _slow(self, body):
        """Sends body at STATIC_RATE bytes per second, in tenth-of-a-second slices."""
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.flush()
        step = max(1, STATIC_RATE // 10)
        for off in range(0, len(body), step):
            self.connection.sendall(body[off:off + step])
            time.sleep(0.1)

    def _respond(self, send_body):
        path = self.path.split('?', 1)[0]
        if path == '/':
            self._simple(200, PAGE, 'text/html; charset=utf-8', send_body)
            return
        if path.startswith('/bytes/'):
            arg = path[len('/bytes/'):]
            if not arg.isdigit() or int(arg) > MAX_BYTES:
                self._simple(400, b'bad byte count\n', send_body=send_body)
                return
            n = int(arg)
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Length', str(n))
            self.end_headers()
            if send_body:
                self.wfile.flush()
                view = memoryview(PATTERN)
                conn = self.connection
                while n > 0:
                    k = min(n, SLICE)
                    conn.sendall(view[:k])
                    n -= k
            return
        if path.startswith('/static/') and STATIC_DIR is not None:
            name = path[len('/static/'):]
            if name and '/' not in name and not name.startswith('.'):
                try:
                    with open(os.path.join(STATIC_DIR, name), 'rb') as f:
                        body = f.read()
                except OSError:
                    body = None
                if body is not None and STATIC_RATE > 0 and send_body:
                    self._slow(body)
                    return
                if body is not None:
                    self._simple(200, body, 'application/octet-stream', send_body)
                    return
        self._simple(404, b'not found\n', send_body=send_body)


class HttpServer(_DualStack, socketserver.ThreadingMixIn, HTTPServer):
    pass


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        while True:
            data = s.recv(65536)
            if not data:
                return
            s.sendall(data)


class DiscardHandler(socketserver.BaseRequestHandler):
    def handle(self):
        buf = bytearray(SLICE)
        while self.request.recv_into(buf):
            pass


class TcpServer(_DualStack, socketserver.ThreadingMixIn, socketserver.TCPServer):
    pass


def udp_echo(port):
    s = socket.socket(FAMILY, socket.SOCK_DGRAM)
    if FAMILY == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ANY, port))

    def loop():
        while True:
            data, addr = s.recvfrom(65535)
            try:
                s.sendto(data, addr)
            except OSError as err:
                log(f'udp echo to {addr}: {err}')

    return loop


def main():
    global VERBOSE, STATIC_DIR, STATIC_RATE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--http-ports', default='80,8080')
    ap.add_argument('--echo-port', type=int, default=7)
    ap.add_argument('--discard-port', type=int, default=9)
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('--static-dir', help='serve the files of this directory as GET /static/NAME')
    ap.add_argument('--static-rate', type=int, default=0, metavar='BYTES',
                    help='send static files at most this many bytes per second (slow downloads)')
    opts = ap.parse_args()
    VERBOSE = opts.verbose
    STATIC_DIR = opts.static_dir
    STATIC_RATE = opts.static_rate

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    loops = []
    for port in (int(p) for p in opts.http_ports.split(',') if p):
        loops.append(HttpServer((ANY, port), HttpHandler).serve_forever)
    loops.append(TcpServer((ANY, opts.echo_port), EchoHandler).serve_forever)
    loops.append(TcpServer((ANY, opts.discard_port), DiscardHandler).serve_forever)
    loops.append(udp_echo(opts.echo_port))
    for fn in loops:
        threading.Thread(target=fn, daemon=True).start()
    print('ready', flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
