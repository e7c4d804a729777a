"""Test support for the Python client: the real service as a child process, loopback stubs, an OTLP
receiver, and stand-ins for what the machine may not have (numpy, httpx, opentelemetry, the local model).

Environment (set by test/clients/python-client.test.ts):
  EMBEDDING_TEST_NODE        node executable
  EMBEDDING_TEST_MAIN_JS     the compiled service, dist/app/main.js
  EMBEDDING_TEST_MODEL_DIR   a model directory (the synthetic model)
  EMBEDDING_CLIENT_TEST_REAL_MODULES=1  use the interpreter's own numpy/httpx instead of the stand-ins
  EMBEDDING_CLIENT_UNDER_TEST  another client file to test (e.g. an older version), instead of clients/python/
"""

import atexit
import contextvars
import importlib.util
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CLIENT_FILE = os.environ.get("EMBEDDING_CLIENT_UNDER_TEST") or os.path.join(REPO_ROOT, "clients", "python", "embedding_client.py")
REAL_MODULES = os.environ.get("EMBEDDING_CLIENT_TEST_REAL_MODULES") == "1"
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
    """opentelemetry.propagate.inject that writes the trace context a test set in the current context (or
    nothing). Like OpenTelemetry's, that context lives in a contextvar: another thread sees it only if
    the caller's context was carried there."""

    _current = contextvars.ContextVar("fake_trace_context", default=None)

    @classmethod
    def set(cls, traceparent, tracestate=None):
        """Sets the trace context of the current context; returns a token for reset()."""
        return cls._current.set((traceparent, tracestate))

    @classmethod
    def reset(cls, token):
        cls._current.reset(token)

    @classmethod
    def inject(cls, carrier, context=None, setter=None):
        current = cls._current.get()
        if current:
            carrier["traceparent"] = current[0]
            if current[1]:
                carrier["tracestate"] = current[1]


def _header_lookup(items):
    lowered = {name.lower(): value for name, value in items}
    return types.SimpleNamespace(get=lambda name, default=None: lowered.get(name.lower(), default), items=lambda: lowered.items())


def fake_httpx():
    """The little of httpx the client uses (Client.get/post, Response, the exception tree), over urllib.

    It records every Client made and closed, so a test can see what the client does with its pool.
    """
    httpx = types.ModuleType("httpx")
    dumps = json.dumps  # Client.post's keyword is named json, like httpx's

    class HTTPError(Exception):
        pass

    class TransportError(HTTPError):
        pass

    class ConnectError(TransportError):
        pass

    class TimeoutException(TransportError):
        pass

    class ReadTimeout(TimeoutException):
        pass

    class HTTPStatusError(HTTPError):
        def __init__(self, message, *, request, response):
            super().__init__(message)
            self.request = request
            self.response = response

    class Response(object):
        def __init__(self, status_code, headers, content, url):
            self.status_code = status_code
            self.headers = headers
            self.content = content
            self.text = content.decode("utf-8", "replace")
            self.request = types.SimpleNamespace(url=url)

        def json(self):
            return json.loads(self.text)

        def raise_for_status(self):
            if self.status_code >= 400:
                kind = "Client" if self.status_code < 500 else "Server"
                raise HTTPStatusError("%s error '%d' for url '%s'" % (kind, self.status_code, self.request.url),
                                      request=self.request, response=self)
            return self

    class Client(object):
        made = []

        def __init__(self, timeout=5.0):
            self.timeout = timeout
            self.closed = False
            self.calls = []
            Client.made.append(self)

        def _send(self, method, url, data, headers, timeout):
            self.calls.append((method, url))
            request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout if timeout is None else timeout) as resp:
                    return Response(resp.status, _header_lookup(resp.headers.items()), resp.read(), url)
            except urllib.error.HTTPError as error:
                return Response(error.code, _header_lookup(error.headers.items()), error.read(), url)
            except urllib.error.URLError as error:
                reason = error.reason
                if isinstance(reason, (socket.timeout, TimeoutError)):
                    raise ReadTimeout(str(reason))
                if isinstance(reason, ConnectionRefusedError):
                    raise ConnectError(str(reason))
                raise TransportError(str(reason))
            except (socket.timeout, TimeoutError) as error:
                raise ReadTimeout(str(error))
            except OSError as error:
                raise TransportError(str(error))

        def request(self, method, url, content=None, json=None, headers=None, timeout=None):
            headers = dict(headers or {})
            if json is not None:
                content = dumps(json).encode()
                headers["Content-Type"] = "application/json"
            return self._send(method, url, content, headers, timeout)

        def get(self, url, headers=None, timeout=None):
            return self.request("GET", url, headers=headers, timeout=timeout)

        def post(self, url, json=None, headers=None, timeout=None):
            return self.request("POST", url, json=json, headers=headers, timeout=timeout)

        def close(self):
            self.closed = True

    for value in (HTTPError, TransportError, ConnectError, TimeoutException, ReadTimeout, HTTPStatusError, Response, Client):
        setattr(httpx, value.__name__, value)
    return httpx


def install_stand_ins():
    """Before the client is imported: a fake numpy and opentelemetry (the real numpy with REAL_MODULES=1)."""
    if not REAL_MODULES:
        numpy = types.ModuleType("numpy")
        numpy.float32 = "float32"
        numpy.array = _fake_array
        numpy.asarray = _fake_array
        numpy.zeros = _fake_zeros
        numpy.ndarray = FakeArray
        sys.modules["numpy"] = numpy
    otel = types.ModuleType("opentelemetry")
    otel.propagate = types.ModuleType("opentelemetry.propagate")
    otel.propagate.inject = FakeTracing.inject
    sys.modules["opentelemetry"] = otel
    sys.modules["opentelemetry.propagate"] = otel.propagate


def for_each_transport(mixin):
    """One TestCase per way the callers may run the client: without httpx (urllib) and with it."""
    import unittest

    return tuple(type(mixin.__name__ + suffix, (mixin, unittest.TestCase), {"transport": transport, "__module__": mixin.__module__})
                 for transport, suffix in (("urllib", "WithoutHttpx"), ("httpx", "WithHttpx")))


_loaded = {}


def load_client(transport="urllib"):
    """The client module, imported as its callers import it: without httpx ("urllib") or with it ("httpx":
    the stand-in, or the interpreter's own httpx with REAL_MODULES=1). One module object per transport."""
    if transport not in _loaded:
        install_stand_ins()
        if transport == "urllib":
            httpx = None
        elif REAL_MODULES:
            import httpx
        else:
            httpx = fake_httpx()
        name = "embedding_client" if transport == "urllib" else "embedding_client_" + transport
        previous = sys.modules.get("httpx")
        sys.modules["httpx"] = httpx  # None: `import httpx` raises ImportError
        try:
            spec = importlib.util.spec_from_file_location(name, CLIENT_FILE)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        finally:
            if previous is None:
                sys.modules.pop("httpx", None)
            else:
                sys.modules["httpx"] = previous
        module.test_httpx = httpx
        _loaded[transport] = module
    return _loaded[transport]


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
    """True for FakeLocalModel's vector (an array or its tolist())."""
    return all(abs(x - LOCAL_VALUE) < 1e-6 for x in (vector.tolist() if hasattr(vector, "tolist") else vector))


class LogRecords(logging.Handler):
    """Collects the client's log records at ``level`` and above (INFO: what an operator sees by default)."""

    def __init__(self, name="embedding_client", level=logging.INFO):
        super().__init__(level)
        self.records = []
        self._logger = logging.getLogger(name)

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        self._logger.addHandler(self)
        self._previous_level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        self._logger.removeHandler(self)
        self._logger.setLevel(self._previous_level)

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


def closed_port_url():
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return "http://127.0.0.1:%d" % port


def post_embed(url, texts):
    """The service's own answer, straight from POST /embed."""
    request = urllib.request.Request(url + "/embed", data=json.dumps({"texts": texts}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())["embeddings"]


def max_difference(rows, expected):
    """Largest element-wise difference between two lists of vectors of the same shape (inf when the shapes differ)."""
    if len(rows) != len(expected) or any(len(a) != len(b) for a, b in zip(rows, expected)):
        return float("inf")
    return max(abs(x - y) for a, b in zip(rows, expected) for x, y in zip(a, b))


_TITLES = ["Toddler Storytime", "Jazz Night", "Farmers Market", "Teen Robotics Club", "Senior Yoga", "Book Club",
           "Family Movie Night", "Pottery for Beginners", "Chess Tournament", "Watercolor Workshop"]
_PLACES = ["Newton Free Library, Newton MA", "Riverside Park, Cambridge MA", "Town Hall, Needham MA",
           "the Science Center, Boston MA", "Elm Theater, Waltham MA"]
_SENTENCES = [
    "Join us for songs, rhymes and stories that build early literacy skills.",
    "Local musicians play standards and new work; bring a blanket and a picnic.",
    "Over forty vendors sell fresh produce, bread, cheese, honey and flowers.",
    "Students build and program robots in small teams guided by volunteer engineers.",
    "A gentle class focused on balance, breathing and flexibility; chairs are available.",
    "This month we discuss a novel about three generations of a family on the coast.",
    "Free popcorn, and the film is chosen by vote at the previous screening.",
    "All materials are provided, and you take home two finished pieces after firing.",
    "Rated and unrated players welcome; games are played with a thirty minute clock.",
    "Learn washes, wet-on-wet blending and simple landscapes in a relaxed setting.",
]
_AUDIENCES = ["babies toddlers preschool young children ages 0-5", "kids children elementary school ages 6-9",
              "teens teenagers high school young adults ages 13-18", "adults grown-ups 18+",
              "all ages family friendly everyone"]


def event_text(i):
    """An event as the callers' RAG service describes it for embedding (title, description, place, time,
    audience, tags): 150 to about 1,500 characters, i.e. up to and past the model's 256 tokens."""
    description = " ".join(_SENTENCES[(i + k) % len(_SENTENCES)] for k in range(1 + i % 17))
    return "%s #%d %s %s %s %s %s" % (
        _TITLES[i % len(_TITLES)], i, description, _PLACES[i % len(_PLACES)],
        ["Saturday 10:30 AM May", "Friday 07:00 PM June", "Tuesday 04:00 PM March"][i % 3],
        _AUDIENCES[i % len(_AUDIENCES)], ["outdoor music free", "indoor crafts", "stem learning"][i % 3])


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


def forward(request, target):
    """Sends the request on to the real service; returns its (status, body, headers to relay), errors included."""
    forwarded = urllib.request.Request(target + request["path"], data=request["body"] or None,
                                       headers={"Content-Type": "application/json"}, method=request["method"])
    try:
        with urllib.request.urlopen(forwarded, timeout=30) as resp:
            return resp.status, resp.read(), {}
    except urllib.error.HTTPError as error:
        retry_after = error.headers.get("Retry-After")
        return error.code, error.read(), {"Retry-After": retry_after} if retry_after else {}


def relay(handler, request, target):
    """Forwards the request to the real service and relays its answer, errors (and their Retry-After) included."""
    answer(handler, *forward(request, target))


class CountingRelay(LoopbackServer):
    """Sits in front of the real service: relays every request, keeps what each POST /embed carried and
    how many were open at once. With ``gather``, a POST /embed is held (up to ``hold`` seconds) until
    that many are open, so a client that keeps two requests in flight is seen doing it."""

    def __init__(self, target, gather=0, hold=0.5):
        self.open = 0
        self.max_open = 0
        self._open_changed = threading.Condition()

        def handle(handler, request, index):
            if request["path"] != "/embed":
                return relay(handler, request, target)
            with self._open_changed:
                self.open += 1
                self.max_open = max(self.max_open, self.open)
                self._open_changed.notify_all()
                self._open_changed.wait_for(lambda: self.open >= gather, timeout=hold if gather else 0)
            try:
                status, body, headers = forward(request, target)
            finally:
                with self._open_changed:  # closed before the client hears back, so its next request is not counted with this one
                    self.open -= 1
            if status == 200:
                texts = json.loads(request["body"])["texts"]
                self.served.append(texts)
                self.answered.update(zip(texts, json.loads(body)["embeddings"]))
            answer(handler, status, body, headers)

        self.served = []  # the texts of each POST /embed the service answered with 200, in the order answered
        self.answered = {}  # text -> the vector the service answered for it
        super().__init__(handle)

    def embed_bodies(self):
        return [json.loads(r["body"])["texts"] for r in list(self.requests) if r["path"] == "/embed"]

    def embed_headers(self):
        """Each POST /embed's headers, names lower-cased."""
        return [{name.lower(): value for name, value in r["headers"].items()} for r in list(self.requests) if r["path"] == "/embed"]

    def embed_sizes(self):
        return [len(texts) for texts in self.embed_bodies()]


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
