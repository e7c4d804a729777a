"""Test support for the Python client: the real service as a child process, loopback stubs, an OTLP
receiver, and stand-ins for what the machine may not have (numpy, opentelemetry, the local model).

Environment (set by test/clients/python-client.test.ts):
  EMBEDDING_TEST_NODE        node executable
  EMBEDDING_TEST_MAIN_JS     the compiled service, dist/app/main.js
  EMBEDDING_TEST_MODEL_DIR   a model directory (the synthetic model)
  EMBEDDING_CLIENT_TEST_REAL_MODULES=1  use the interpreter's own numpy/httpx instead of the stand-ins
"""

import atexit
import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DIMENSION = 384


# -- stand-in modules -------------------------------------------------------------------------

class FakeArray(object):
    """The little of numpy.ndarray the client uses: nested float lists with a shape."""

    dtype = "float32"

    def __init__(self, data, shape):
        self._data = data
        self.shape = tuple(shape)
        self.ndim = len(self.shape)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        item = self._data[index]
        return FakeArray(item, self.shape[1:]) if self.ndim > 1 else item

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def tolist(self):
        return json.loads(json.dumps(self._data))


def _fake_array(obj, dtype=None):
    def nested(value):
        if isinstance(value, FakeArray):
            return value.tolist()
        if isinstance(value, (list, tuple)):
            return [nested(v) for v in value]
        return float(value)

    data = nested(obj)
    shape, level = [], data
    while isinstance(level, list):
        shape.append(len(level))
        level = level[0] if level else None
    return FakeArray(data, shape)


def _fake_zeros(shape, dtype=None):
    def build(dims):
        return [build(dims[1:]) for _ in range(dims[0])] if dims else 0.0

    return FakeArray(build(list(shape)), shape)


class FakeTracing(object):
    """opentelemetry.propagate.inject that writes the context a test sets (or nothing)."""

    traceparent = None
    tracestate = None

    @classmethod
    def inject(cls, carrier, context=None, setter=None):
        if cls.traceparent:
            carrier["traceparent"] = cls.traceparent
            if cls.tracestate:
                carrier["tracestate"] = cls.tracestate


def install_stand_ins():
    """Before the client is imported: a fake numpy and opentelemetry, and no httpx (urllib is tested)."""
    if os.environ.get("EMBEDDING_CLIENT_TEST_REAL_MODULES") != "1":
        numpy = types.ModuleType("numpy")
        numpy.float32 = "float32"
        numpy.array = _fake_array
        numpy.asarray = _fake_array
        numpy.zeros = _fake_zeros
        numpy.ndarray = FakeArray
        sys.modules["numpy"] = numpy
        sys.modules["httpx"] = None  # import httpx -> ImportError
    otel = types.ModuleType("opentelemetry")
    otel.propagate = types.ModuleType("opentelemetry.propagate")
    otel.propagate.inject = FakeTracing.inject
    sys.modules["opentelemetry"] = otel
    sys.modules["opentelemetry.propagate"] = otel.propagate
    sys.path.insert(0, os.path.join(REPO_ROOT, "clients", "python"))


LOCAL_VALUE = 1 / math.sqrt(DIMENSION)


class FakeLocalModel(object):
    """Stands in for SentenceTransformer: unit vectors whose every component is 1/sqrt(384), counted."""

    def __init__(self):
        self.texts = 0
        self._lock = threading.Lock()

    def encode(self, texts, **kwargs):
        with self._lock:
            self.texts += len(texts)
        import numpy as np

        return np.array([[LOCAL_VALUE] * DIMENSION for _ in texts], dtype=np.float32)


def is_local(vector):
    return all(abs(x - LOCAL_VALUE) < 1e-6 for x in vector.tolist())


class LogRecords(logging.Handler):
    """Collects the client's log records."""

    def __init__(self, name="embedding_client"):
        super().__init__(logging.DEBUG)
        self.records = []
        self._logger = logging.getLogger(name)

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        self._logger.removeHandler(self)

    def levels(self):
        return [record.levelname for record in self.records]


# -- the service --------------------------------------------------------------------------------

_running = set()


def _kill_all():
    for proc in list(_running):
        if proc.poll() is None:
            proc.kill()


atexit.register(_kill_all)
# jest stops a run that overstays with SIGTERM: exit through atexit so no service is left behind.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class ServiceProcess(object):
    """The service as production runs it: node dist/app/main.js, on loopback."""

    def __init__(self, port=0, **env):
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MODEL_AUTO_DOWNLOAD": "false",
            "EMBEDDING_MODEL_DIR": os.environ["EMBEDDING_TEST_MODEL_DIR"],
        }
        full_env.update(env)
        self.proc = subprocess.Popen(
            [os.environ["EMBEDDING_TEST_NODE"], os.environ["EMBEDDING_TEST_MAIN_JS"]],
            env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _running.add(self.proc)
        self.logs = []
        self.stderr = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            try:
                self.logs.append(json.loads(line))
            except ValueError:
                self.logs.append({"message": line, "unparsed": True})

    def wait_for_log(self, predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in list(self.logs):
                if predicate(entry):
                    return entry
            if self.proc.poll() is not None:
                raise RuntimeError("service exited (%s): %s" % (self.proc.returncode, "".join(self.stderr)))
            time.sleep(0.01)
        raise RuntimeError("timed out waiting for a service log line: %s" % "".join(self.stderr))

    @property
    def port(self):
        return self.wait_for_log(lambda e: e.get("message") == "listening")["port"]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def wait_healthy(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("service not healthy in time: %s" % "".join(self.stderr))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        _running.discard(self.proc)
        for reader in self._readers:
            reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


def post_embed(url, texts):
    """The service's own answer, straight from POST /embed."""
    request = urllib.request.Request(url + "/embed", data=json.dumps({"texts": texts}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())["embeddings"]


def rounded(vectors):
    """Vectors as float32 values in plain lists, to compare the client's arrays with the service's JSON."""
    import numpy as np

    return np.array(vectors, dtype=np.float32).tolist()


# -- loopback servers ---------------------------------------------------------------------------

class LoopbackServer(object):
    """A threaded HTTP server on 127.0.0.1 whose answers the test scripts through handle(request, index)."""

    def __init__(self, handle):
        outer = self
        self.requests = []
        self.released = threading.Event()
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _read_body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():  # as the OTLP exporter sends
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size + 2)[:size]
                        if size == 0:
                            return body
                        body += chunk
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _serve(self):
                body = self._read_body()
                with outer._lock:
                    index = len(outer.requests)
                    outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                           "body": body, "at": time.monotonic()})
                handle(self, outer.requests[index], index)

            do_GET = _serve
            do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]

    def close(self):
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


def answer(handler, status, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def relay(handler, request, target):
    """Forwards the request to the real service and relays its answer, errors included."""
    forwarded = urllib.request.Request(target + request["path"], data=request["body"] or None,
                                       headers={"Content-Type": "application/json"}, method=request["method"])
    try:
        with urllib.request.urlopen(forwarded, timeout=30) as resp:
            answer(handler, resp.status, resp.read())
    except urllib.error.HTTPError as error:
        answer(handler, error.code, error.read())


class CountingRelay(LoopbackServer):
    """Sits in front of the real service: relays every request and keeps how many texts each POST /embed carried."""

    def __init__(self, target):
        super().__init__(lambda handler, request, index: relay(handler, request, target))

    def embed_sizes(self):
        return [len(json.loads(r["body"])["texts"]) for r in list(self.requests) if r["path"] == "/embed"]


class OtlpReceiver(LoopbackServer):
    """A real OTLP/HTTP receiver: keeps every span the service exports (as JSON) and every path posted to."""

    def __init__(self):
        self.spans = []

        def handle(handler, request, index):
            if request["path"] == "/v1/traces":
                for resource in json.loads(request["body"]).get("resourceSpans", []):
                    for scope in resource.get("scopeSpans", []):
                        self.spans.extend(scope.get("spans", []))
            answer(handler, 200, {})

        super().__init__(handle)


def attribute(span, key):
    for item in span.get("attributes", []):
        if item["key"] == key:
            value = item["value"]
            return next(iter(value.values())) if value else None
    return None
