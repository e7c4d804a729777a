"""Client for the embedding service (all-MiniLM-L6-v2 sentence embeddings, 384 dimensions).

A drop-in replacement for the callers' ``api/embedding_client.py``: the same names, signatures
and return shapes (``encode(str)`` -> ``(384,)``, ``encode(list)`` -> ``(n, 384)`` float32 numpy
arrays), the same 1000-entry cache and ``EMBEDDING_SERVICE_URL``. What changed is how it copes:

* inputs longer than ``max_batch`` (100, the service's limit) go as several requests, in order;
* connection errors, timeouts, 408, 429 and 5xx are retried with jittered backoff (or after the
  server's ``Retry-After``), at most ``max_retries`` times and never past ``timeout`` seconds;
* only an outage (those errors, after the retries) switches to the local sentence-transformers
  model, for ``recheck_interval`` seconds; then one call checks the service's /health and the
  client goes back to it as soon as it answers (the local model is then released). Each switch
  is logged once, not once per call;
* any other 4xx (a 422 for bad input) is the caller's error: ``EmbeddingRequestError`` is raised
  and the client stays on the service;
* the W3C ``traceparent``/``tracestate`` of the current OpenTelemetry context go with each request
  when ``opentelemetry`` is importable, so a trace continues into the service.

Runtime dependencies: numpy, and httpx when it is importable (else the standard library's urllib).
The local fallback imports sentence_transformers lazily, only when the service is down.
"""

import json
import logging
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from email.utils import parsedate_to_datetime
from http.client import HTTPException

import numpy as np

try:
    import httpx
except ImportError:
    httpx = None

try:
    from opentelemetry import propagate as _otel_propagate
except ImportError:
    _otel_propagate = None

__all__ = [
    "EmbeddingClient",
    "EmbeddingRequestError",
    "EmbeddingServiceUnavailable",
    "get_embedding_client",
]

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_URL = "http://localhost:8003"
MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIMENSION = 384
CACHE_SIZE = 1000

_PROBE_TIMEOUT = 2.0  # seconds: GET /health answers at once when the service is up, whatever its load
_BASE_DELAY = 0.1
_MAX_DELAY = 2.0
_WHITESPACE = re.compile(r"\s+")


class EmbeddingRequestError(ValueError):
    """The service refused the input (a 4xx such as 422): the caller's error, not an outage."""

    def __init__(self, status, detail):
        super().__init__("embedding service answered %s: %s" % (status, detail))
        self.status = status
        self.detail = detail


class EmbeddingServiceUnavailable(RuntimeError):
    """The service is unreachable or failing (after retries) and the local model is off or failed."""


class _Outage(Exception):
    """Connection error, timeout, 408, 429 or 5xx: the service, not the request, is at fault."""


class _TransportError(Exception):
    """No HTTP answer at all: refused, reset, timed out."""


class _Response(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body


def _describe(error):
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    if isinstance(error, TimeoutError) or (httpx is not None and isinstance(error, httpx.TimeoutException)):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return "%s: %s" % (type(error).__name__, error)


class _UrllibTransport(object):
    """The standard library: one connection per request."""

    def close(self):
        pass

    def request(self, method, url, body, headers, timeout):
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return _Response(resp.status, _lower(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as error:
            return _Response(error.code, _lower(error.headers.items()), error.read())
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise _TransportError(_describe(error))


class _HttpxTransport(object):
    """httpx: a pooled, thread-safe client, made again in a forked worker (pools do not survive a fork)."""

    def __init__(self):
        self._client = None
        self._pid = None
        self._lock = threading.Lock()

    def _session(self):
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = httpx.Client()
                self._pid = os.getpid()
            return self._client

    def close(self):
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def request(self, method, url, body, headers, timeout):
        try:
            resp = self._session().request(method, url, content=body, headers=headers, timeout=timeout)
            return _Response(resp.status_code, _lower(resp.headers.items()), resp.content)
        except httpx.TransportError as error:
            raise _TransportError(_describe(error))


def _lower(items):
    return {name.lower(): value for name, value in items}


def _retry_after_seconds(value):
    """Retry-After in seconds, or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _retry_delay(retry, retry_after):
    """What the server asked for (plus up to 10%, so callers told the same do not return together), else full-jitter backoff."""
    if retry_after is not None:
        return retry_after * (1 + 0.1 * random.random())
    return random.uniform(0, min(_MAX_DELAY, _BASE_DELAY * 2 ** (retry - 1)))


def _detail(body):
    """FastAPI's ``detail`` or OpenAI's ``error.message``, else the start of the body."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(parsed, dict):
        if "detail" in parsed:
            return parsed["detail"]
        if isinstance(parsed.get("error"), dict) and "message" in parsed["error"]:
            return parsed["error"]["message"]
    return parsed


def _trace_headers():
    """traceparent/tracestate of the current OpenTelemetry context (empty without the API or an active span)."""
    carrier = {}
    if _otel_propagate is not None:
        try:
            _otel_propagate.inject(carrier)
        except Exception:  # tracing must never fail a call
            logger.debug("could not inject trace context", exc_info=True)
    return carrier


class EmbeddingClient(object):
    """Embeddings from the service, with retries and a local model for outages only.

    :param service_url: the service's base URL; default ``EMBEDDING_SERVICE_URL``, else localhost:8003.
    :param fallback_to_local: use the local sentence-transformers model during outages; when False,
        an outage raises ``EmbeddingServiceUnavailable``.
    :param timeout: seconds one request to the service may take, retries and their waits included.
    :param max_batch: texts per request (the service accepts 100).
    :param recheck_interval: seconds on the local model after an outage before the service is tried again.
    :param max_retries: retries of one request (within ``timeout``).
    :param local_model: an object with ``encode(texts, **kwargs)`` to use instead of loading
        ``SentenceTransformer("all-MiniLM-L6-v2")``.
    """

    def __init__(self, service_url=None, fallback_to_local=True, timeout=10.0, *,
                 max_batch=100, recheck_interval=30.0, max_retries=3, local_model=None):
        if int(max_batch) < 1:
            raise ValueError("max_batch must be at least 1")
        if float(timeout) <= 0:
            raise ValueError("timeout must be positive")
        self.service_url = (service_url or os.environ.get("EMBEDDING_SERVICE_URL") or DEFAULT_SERVICE_URL).rstrip("/")
        self.fallback_to_local = fallback_to_local
        self.timeout = float(timeout)
        self.max_batch = int(max_batch)
        self.recheck_interval = float(recheck_interval)
        self.max_retries = max(0, int(max_retries))
        self._given_local_model = local_model
        self._local_model = local_model
        self._local_lock = threading.Lock()
        self._cache = OrderedDict()
        self._cache_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._local_since = None  # time.monotonic() of the switch to the local model; None on the service
        self._recheck_at = 0.0
        self._probing = False
        self._transport = _HttpxTransport() if httpx is not None else _UrllibTransport()

    # -- public API --------------------------------------------------------------------------

    @property
    def mode(self):
        """``"service"``, or ``"local"`` from an outage until the service answers again."""
        return "service" if self._local_since is None else "local"

    def encode(self, texts, use_cache=True):
        """One float32 vector per text: ``(384,)`` for a string, ``(n, 384)`` for a list."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not items:
            return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
        rows = [None] * len(items)
        missing = []
        for index, text in enumerate(items):
            cached = self._cache_get(text) if use_cache else None
            if cached is None:
                missing.append(index)
            else:
                rows[index] = cached
        if missing:
            computed = self._embed([items[index] for index in missing])
            for index, row in zip(missing, computed):
                rows[index] = row
                if use_cache:
                    self._cache_put(items[index], row)
        result = np.array(rows, dtype=np.float32)
        return result[0] if single else result

    def health_check(self):
        """True when the service answers /health with 200 (up, model loaded)."""
        return self._healthy(min(self.timeout, 5.0))

    def close(self):
        """Closes pooled connections (httpx) and releases the local model; the client stays usable."""
        self._transport.close()
        with self._local_lock:
            self._local_model = self._given_local_model

    def warmup(self):
        """Embeds one text (on the service, or locally during an outage); False, logged, if that failed."""
        try:
            self.encode("warmup", use_cache=False)
            return True
        except Exception as error:
            logger.warning("Embedding warmup failed: %s", error)
            return False

    def _healthy(self, timeout):
        try:
            return self._transport.request("GET", self.service_url + "/health", None, {}, timeout).status == 200
        except _TransportError:
            return False

    # -- cache -------------------------------------------------------------------------------

    @staticmethod
    def _cache_key(text):
        return _WHITESPACE.sub(" ", text.lower()).strip()

    def _cache_get(self, text):
        key = self._cache_key(text)
        with self._cache_lock:
            row = self._cache.get(key)
            if row is not None:
                self._cache.move_to_end(key)
            return row

    def _cache_put(self, text, row):
        key = self._cache_key(text)
        with self._cache_lock:
            self._cache[key] = row
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    # -- service or local --------------------------------------------------------------------

    def _embed(self, texts):
        rows = []
        for start in range(0, len(texts), self.max_batch):
            rows.extend(self._embed_chunk(texts[start:start + self.max_batch]))
        return rows

    def _embed_chunk(self, texts):
        route = self._route()
        if route == "local":
            return self._encode_locally(texts)
        if route == "probe":
            ready = False
            try:
                ready = self._healthy(min(self.timeout, _PROBE_TIMEOUT))
            finally:
                self._probe_done(ready)
            if not ready:
                return self._encode_locally(texts)
        try:
            return self._request_embeddings(texts)
        except _Outage as outage:
            if not self.fallback_to_local:
                raise EmbeddingServiceUnavailable("embedding service %s unavailable: %s" % (self.service_url, outage))
            self._switch_to_local(str(outage))
            return self._encode_locally(texts)

    def _route(self):
        """'service'; 'local' during an outage; 'probe' for the one call that tries the service again."""
        with self._state_lock:
            if self._local_since is None:
                return "service"
            if self._probing or time.monotonic() < self._recheck_at:
                return "local"
            self._probing = True
            return "probe"

    def _switch_to_local(self, reason):
        with self._state_lock:
            self._recheck_at = time.monotonic() + self.recheck_interval
            if self._local_since is not None:
                return  # another call saw the outage first
            self._local_since = time.monotonic()
        logger.warning("Embedding service %s unavailable (%s); using the local model for %.0f s before trying the service again",
                       self.service_url, reason, self.recheck_interval)

    def _probe_done(self, ready):
        with self._state_lock:
            self._probing = False
            if not ready:
                self._recheck_at = time.monotonic() + self.recheck_interval
                return
            since, self._local_since = self._local_since, None
        if since is not None:
            logger.info("Embedding service %s is back after %.0f s on the local model; local model released",
                        self.service_url, time.monotonic() - since)
        with self._local_lock:
            self._local_model = self._given_local_model  # calls still using it keep their reference

    def _request_embeddings(self, texts):
        """POST /embed with retries; raises _Outage when they are spent, EmbeddingRequestError for a 4xx."""
        deadline = time.monotonic() + self.timeout
        body = json.dumps({"texts": texts}).encode("utf-8")
        retry = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Outage("no answer within %s s" % self.timeout)
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            headers.update(_trace_headers())
            retry_after = None
            try:
                response = self._transport.request("POST", self.service_url + "/embed", body, headers, remaining)
            except _TransportError as error:
                reason = str(error)
            else:
                if response.status == 200:
                    return self._parse_rows(response.body, len(texts))
                if response.status not in (408, 429) and response.status < 500:
                    raise EmbeddingRequestError(response.status, _detail(response.body))
                reason = "HTTP %s: %s" % (response.status, _detail(response.body))
                retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            retry += 1
            delay = _retry_delay(retry, retry_after)
            # Out of retries, out of time (a wait past the deadline is no use), or another call went local.
            if retry > self.max_retries or time.monotonic() + delay >= deadline or self._gave_up_on_service():
                raise _Outage(reason)
            time.sleep(delay)

    def _gave_up_on_service(self):
        return self.fallback_to_local and self._local_since is not None

    @staticmethod
    def _parse_rows(body, expected):
        try:
            embeddings = json.loads(body.decode("utf-8"))["embeddings"]
        except (ValueError, KeyError, TypeError):
            raise _Outage("the service answered 200 without embeddings")
        if not isinstance(embeddings, list) or len(embeddings) != expected:
            raise _Outage("the service answered 200 without %d embeddings" % expected)
        return [np.array(vector, dtype=np.float32) for vector in embeddings]

    def _encode_locally(self, texts):
        try:
            model = self._get_local_model()
            vectors = model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        except Exception as error:
            raise EmbeddingServiceUnavailable(
                "embedding service %s unavailable and the local model failed: %s" % (self.service_url, error))
        return [np.array(vector, dtype=np.float32) for vector in vectors]

    def _get_local_model(self):
        with self._local_lock:
            if self._local_model is None:
                from sentence_transformers import SentenceTransformer  # 90 MB model, ~600 MB RAM: only in an outage

                logger.info("Loading the local embedding model %s", MODEL_NAME)
                self._local_model = SentenceTransformer(MODEL_NAME)
            return self._local_model


_client = None
_client_lock = threading.Lock()


def get_embedding_client():
    """The process-wide client (created on first use, from EMBEDDING_SERVICE_URL)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = EmbeddingClient()
        return _client
