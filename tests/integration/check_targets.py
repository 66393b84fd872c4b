"""Real targets for health-check tests, on loopback only.

HTTP and HTTPS servers switchable between answers (200, 429, 500, hanging,
redirects, garbage, byte-by-byte, huge bodies), TCP and UDP listeners, a
gRPC health server (grpcio with a hand-encoded grpc.health.v1 service), and
a throwaway CA for TLS. Each target runs in threads of the test process and
records what it received, so tests can assert on the requests the agent made.
"""
import http.server
import pathlib
import socket
import ssl
import subprocess
import threading
import time


class HttpTarget:
    """An HTTP(S) server whose answer is set by .mode:
    200, 429, 500 (any int), "hang", "drip", "garbage", "huge", or a path to redirect to."""

    def __init__(self, tls_cert=None, tls_key=None):
        target = self
        self.mode = 200
        self.body = b"ok"
        self.requests = []  # (method, path, headers dict (lower-case keys), body)
        self.sni = []
        self.active = 0
        self.max_active = 0
        self.release = threading.Event()
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with target.lock:
                    headers = {k.lower(): ", ".join(self.headers.get_all(k))
                               for k in set(self.headers.keys())}
                    target.requests.append((self.command, self.path, headers, body))
                    target.active += 1
                    target.max_active = max(target.max_active, target.active)
                try:
                    target.answer(self)
                finally:
                    with target.lock:
                        target.active -= 1

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_one

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # failed handshakes and dropped connections are what tests provoke

        self.server = Server(("127.0.0.1", 0), Handler)
        self.https = tls_cert is not None
        if self.https:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert, tls_key)

            def on_sni(sock, name, _ctx):
                self.sni.append(name)
            ctx.sni_callback = on_sni
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/health", host="127.0.0.1"):
        return f"{'https' if self.https else 'http'}://{host}:{self.port}{path}"

    def answer(self, h):
        mode = self.mode
        path = h.path
        # Per-path answers let one server play several roles in a test.
        if path.startswith("/chain/"):  # /chain/N redirects N more times
            n = int(path.split("/")[2])
            if n > 0:
                return self.send(h, 302, b"", {"Location": f"/chain/{n - 1}"})
            return self.send(h, 200, b"end of chain")
        if path.startswith("/moved"):
            return self.send(h, 301, b"moved", {"Location": "/landed"})
        if path.startswith("/landed"):
            return self.send(h, 200, b"landed")
        if mode == "hang":
            self.release.wait(60)
            return
        if mode == "drip":  # a status line, one byte at a time, never finished
            for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
                if self.release.is_set():
                    return
                h.wfile.write(bytes([b]))
                h.wfile.flush()
                time.sleep(0.05)
            return
        if mode == "garbage":
            h.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
            h.wfile.flush()
            h.close_connection = True
            return
        if mode == "huge":  # 100 MB announced and streamed
            total = 100 * 1024 * 1024
            h.send_response(200)
            h.send_header("Content-Length", str(total))
            h.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(total // len(chunk)):
                    if self.release.is_set():
                        return
                    h.wfile.write(chunk)
            except OSError:
                pass  # the check stopped reading: it has what it reports
            h.close_connection = True
            return
        return self.send(h, int(mode), self.body)

    @staticmethod
    def send(h, code, body, headers=None):
        h.send_response(code)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class TcpListener:
    """Accepts and closes connections; .close() makes the port refuse."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class UdpListener:
    """Receives datagrams; answers them when .reply is set, else stays silent."""

    def __init__(self, reply=True):
        self.reply = reply
        self.received = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                _, addr = self.sock.recvfrom(2048)
            except OSError:
                return
            self.received += 1
            if self.reply:
                try:
                    self.sock.sendto(b"pong", addr)
                except OSError:
                    return  # closed under us

    def close(self):
        self.sock.close()


def closed_port(kind=socket.SOCK_STREAM):
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GrpcHealthServer:
    """grpc.health.v1.Health/Check on a real grpcio server. .status maps service
    names to 1 (SERVING) or 2 (NOT_SERVING); unknown services get NOT_FOUND."""

    def __init__(self, tls_cert=None, tls_key=None):
        import grpc
        from concurrent import futures
        self.grpc = grpc
        self.status = {"": 1}
        self.calls = 0

        def check(request: bytes, context):
            self.calls += 1
            service = ""
            if len(request) >= 2 and request[0] == 0x0A:  # field 1, length-delimited
                service = request[2:2 + request[1]].decode()
            if service not in self.status:
                context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
            return bytes([0x08, self.status[service]])

        handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(
                check, request_deserializer=None, response_serializer=None)})
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        if tls_cert:
            creds = grpc.ssl_server_credentials(
                [(pathlib.Path(tls_key).read_bytes(), pathlib.Path(tls_cert).read_bytes())])
            self.port = self.server.add_secure_port("127.0.0.1:0", creds)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def close(self):
        self.server.stop(0)


class CertAuthority:
    """A CA and a server certificate for localhost, 127.0.0.1 and check.test,
    plus a self-signed certificate nobody trusts."""

    def __init__(self, directory: pathlib.Path):
        d = directory
        self.ca_cert, self.ca_key = d / "ca.pem", d / "ca-key.pem"
        self.cert, self.key = d / "server.pem", d / "server-key.pem"
        self.rogue_cert, self.rogue_key = d / "rogue.pem", d / "rogue-key.pem"

        def run(*args):
            subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=cairn test CA",
            "-keyout", self.ca_key, "-out", self.ca_cert)
        csr = d / "server.csr"
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=localhost", "-keyout", self.key, "-out", csr)
        ext = d / "san.ext"
        ext.write_text("subjectAltName=DNS:localhost,DNS:check.test,IP:127.0.0.1\n")
        run("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", self.cert)
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", self.rogue_key, "-out", self.rogue_cert)
