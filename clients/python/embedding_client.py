"""
Embedding client - abstracts embedding generation via HTTP or local model.

A drop-in for the callers' ``api/embedding_client.py`` (SuperSchedules): the same names,
signatures, defaults and return values (``encode(str)`` -> ``(384,)``, ``encode(list)`` ->
``(n, 384)`` numpy arrays; ``health_check()`` -> their dict; ``get_embedding_client(warmup=False)``,
``warmup_embedding_client()``; no ``service_url`` and no ``EMBEDDING_SERVICE_URL`` means local mode)
and the same private hooks (``_load_local_model``, ``_local_model``, ``_use_local``, the cache
helpers). Behind that surface it copes better:

* a long input goes as several requests, each sized by its expected work (at most ``max_batch``
  texts and ``max_batch_chars`` characters, texts of similar length together), two in flight,
  vectors in input order;
* connection errors, timeouts, 408, 429 and 5xx are retried with jittered backoff, at most
  ``max_retries`` times; an answer with ``Retry-After`` (starting, busy) is waited for as it asks.
  Never past ``timeout`` seconds a request;
* only an outage (those errors, after the retries) switches to the local sentence-transformers
  model, for ``recheck_interval`` seconds; then one call checks the service's /health and the
  client goes back to it as soon as it answers (the local model is then released). Each switch is
  logged once, not once per call;
* a non-string text raises ``EmbeddingRequestError`` (422) before anything is sent, as does any
  other 4xx from the service; neither switches to the local model;
* the W3C ``traceparent``/``tracestate`` of the current OpenTelemetry context go with each request
  when ``opentelemetry`` is importable, so a trace continues into the service.

Usage:
    from api.embedding_client import get_embedding_client

    client = get_embedding_client()
    embeddings = client.encode(["text1", "text2"])  # Returns numpy array

Runtime dependencies: numpy, and httpx when it is importable (else the standard library's urllib).
sentence_transformers is imported only when the local model is needed. Differences from the
original are listed in the embedding service's docs/clients.md.
"""

import contextvars
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
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import List, Optional, Union

import numpy as np

try:
    import httpx
except ImportError:
    httpx = None

try:
    from opentelemetry import propagate as _otel_propagate
except ImportError:
    _otel_propagate = None

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIMENSION = 384

# Request sizing (measured on a 0.5 vCPU task: docs/clients.md, "Bulk re-indexing"): the service spends
# about 0.06 ms of CPU per character of English text, and a text costs nothing more past its first 256
# tokens (about 1,200 characters). A request of 200 characters per second of ``timeout`` (2,000 at the
# default 10 s) is about 0.12 s of work there, so six such requests queued at once (three bulk callers,
# two in flight each) still finish well within the timeout on a CPU four times slower. Measured: no
# throughput lost to larger requests; 8,000 characters timed out with three callers.
_CHARS_PER_TIMEOUT_SECOND = 200
_MAX_CHARS_COUNTED = 1200
_PROBE_TIMEOUT = 2.0  # seconds: GET /health answers at once when the service is up, whatever its load
_HEALTH_TIMEOUT = 5.0
_BASE_DELAY = 0.1
_MAX_DELAY = 2.0
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", type(None): "null", dict: "object", list: "array", tuple: "array"}


class EmbeddingRequestError(ValueError):
    """Refused input (422 for a non-string text, or any other 4xx): the caller's error, not an outage."""

    def __init__(self, status, detail):
        super().__init__("embedding request refused (%s): %s" % (status, detail))
        self.status = status
        self.detail = detail


class EmbeddingServiceUnavailable(RuntimeError):
    """The service is unreachable or failing (after retries) and the local model is off or failed."""


class _Outage(Exception):
    """Connection error, timeout, 408, 429 or 5xx after the retries; ``error`` is what to raise without a fallback."""

    def __init__(self, reason, error):
        super().__init__(reason)
        self.error = error


class _Answer(object):
    """One HTTP answer, from httpx or urllib."""

    def __init__(self, status, header, payload, text, raise_for_status=None):
        self.status = status
        self.header = header  # name -> value or None
        self.payload = payload  # () -> parsed JSON
        self.text = text  # () -> body as text
        self.raise_for_status = raise_for_status


class _TransportError(Exception):
    """No HTTP answer at all: refused, reset, timed out. ``error`` is the underlying exception."""

    def __init__(self, error):
        super().__init__(_describe(error))
        self.error = error


def _describe(error):
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    if isinstance(error, TimeoutError) or (httpx is not None and isinstance(error, httpx.TimeoutException)):
        return "timed out"
    if isinstance(error, ConnectionRefusedError) or "Connection refused" in str(error):
        return "connection refused"
    return "%s: %s" % (type(error).__name__, error)


def _retry_after_seconds(value):
    """Retry-After in seconds, or as an HTTP date; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
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


def _detail(text):
    """FastAPI's ``detail`` or OpenAI's ``error.message``, else the start of the body."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return str(text)[:200]
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


def _checked_texts(texts):
    """The texts as a list, or EmbeddingRequestError (422, the service's own detail format) before anything is sent."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray, dict)) or not hasattr(texts, "__iter__"):
        raise EmbeddingRequestError(422, [{"loc": ["body", "texts"], "msg": "Input should be a valid list", "type": "invalid_type"}])
    items = list(texts)
    problems = [{"loc": ["body", "texts", index],
                 "msg": "Invalid input: expected string, received %s" % _JSON_TYPES.get(type(text), type(text).__name__),
                 "type": "invalid_type"}
                for index, text in enumerate(items) if not isinstance(text, str)]
    if problems:
        raise EmbeddingRequestError(422, problems)
    return items


def _plan_requests(texts, max_texts, max_chars):
    """The requests for texts, as lists of their indices: texts of similar length together (the service
    pads a batch to its longest text, so mixed lengths waste its CPU), at most max_texts texts and
    about max_chars characters each (a longer text goes alone)."""
    requests, current, chars = [], [], 0
    for index in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        cost = min(len(texts[index]), _MAX_CHARS_COUNTED)
        if current and (len(current) >= max_texts or chars + cost > max_chars):
            requests.append(current)
            current, chars = [], 0
        current.append(index)
        chars += cost
    if current:
        requests.append(current)
    return requests


class _Window(object):
    """How many requests of one encode() call may be out at once: max_in_flight, but one after the service
    answered "busy, come back later", so the call's next request does not take the place the refused one
    is waiting for; wide again once that request has been served."""

    def __init__(self, widest):
        self._widest = widest
        self._size = widest
        self._out = 0
        self._changed = threading.Condition()

    def __enter__(self):
        with self._changed:
            self._changed.wait_for(lambda: self._out < self._size)
            self._out += 1

    def __exit__(self, *exc):
        with self._changed:
            self._out -= 1
            self._changed.notify_all()

    def narrow(self):
        with self._changed:
            self._size = 1

    def widen(self):
        with self._changed:
            self._size = self._widest
            self._changed.notify_all()


class EmbeddingClient:
    """
    Client for generating text embeddings.

    Supports HTTP mode (embedding microservice) and local mode (fallback).
    """

    def __init__(
        self,
        service_url: Optional[str] = None,
        fallback_to_local: bool = True,
        timeout: float = 10.0,
        *,
        max_batch: int = 100,
        max_batch_chars: Optional[int] = None,
        max_in_flight: int = 2,
        recheck_interval: float = 30.0,
        max_retries: int = 3,
        local_model=None,
    ):
        """
        Args:
            service_url: URL of embedding service (e.g., "http://localhost:8003").
                         If None, uses EMBEDDING_SERVICE_URL env var or falls back to local.
            fallback_to_local: If True, use the local model while the service is unavailable.
            timeout: seconds one request to the service may take, retries and their waits included.
            max_batch: texts per request (the service accepts 100).
            max_batch_chars: characters per request (a text counts up to 1,200); default 200 x timeout.
            max_in_flight: requests of one encode() call sent before the previous ones have answered.
            recheck_interval: seconds on the local model after an outage before the service is tried again.
            max_retries: retries of one request after failures that do not say when to come back (within ``timeout``).
            local_model: an object with ``encode(texts, **kwargs)`` to use instead of loading
                ``SentenceTransformer("all-MiniLM-L6-v2")``.
        """
        if float(timeout) <= 0:
            raise ValueError("timeout must be positive")
        if int(max_batch) < 1 or int(max_in_flight) < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self.service_url = service_url or os.environ.get("EMBEDDING_SERVICE_URL")
        self.fallback_to_local = fallback_to_local
        self.timeout = timeout
        self.max_batch = int(max_batch)
        self.max_batch_chars = int(max_batch_chars if max_batch_chars is not None else _CHARS_PER_TIMEOUT_SECOND * float(timeout))
        self.max_in_flight = int(max_in_flight)
        self.recheck_interval = float(recheck_interval)
        self.max_retries = max(0, int(max_retries))

        self._http_client = None  # httpx.Client, made on first use (and again in a forked worker)
        self._http_pid = None
        self._given_local_model = local_model
        self._local_model = local_model
        self._local_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._local_since = None  # time.monotonic() of the switch to the local model; None on the service
        self._recheck_at = 0.0
        self._probing = False

        # Cache for repeated queries (shared between modes): least recently used goes first.
        self._embedding_cache = OrderedDict()
        self._cache_max_size: int = 1000
        self._cache_lock = threading.Lock()

    # -- service or local ----------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"service"``, or ``"local"`` without a service URL or from an outage until the service answers again."""
        return "local" if not self.service_url or self._use_local else "service"

    @property
    def _use_local(self) -> bool:
        """True while calls go to the local model because of an outage (or because it was set)."""
        return self._local_since is not None

    @_use_local.setter
    def _use_local(self, value):
        with self._state_lock:
            if value and self._local_since is None:
                self._local_since = time.monotonic()
                self._recheck_at = self._local_since + self.recheck_interval
            elif not value:
                self._local_since = None

    def _get_http_client(self):
        """Lazy-load HTTP client (httpx, pooled and thread-safe); None without httpx."""
        if httpx is None:
            return None
        with self._state_lock:
            if self._http_client is None or self._http_pid != os.getpid():  # a pool does not survive a fork
                self._http_client = httpx.Client(timeout=self.timeout)
                self._http_pid = os.getpid()
            return self._http_client

    def _load_local_model(self):
        """Lazy-load local sentence transformer model."""
        with self._local_lock:
            if self._local_model is None:
                from sentence_transformers import SentenceTransformer  # 90 MB model, ~600 MB RAM: only when needed

                logger.info("Loading local sentence transformer model (fallback mode)")
                model = SentenceTransformer(MODEL_NAME)
                _ = model.encode(["warmup"], convert_to_numpy=True)
                self._local_model = model
                logger.info("Local model loaded and warmed up")
            return self._local_model

    # -- cache ---------------------------------------------------------------------------------

    def _normalize_query(self, query: str) -> str:
        """Normalize query for cache key."""
        return re.sub(r"\s+", " ", query.lower().strip())

    def _get_cached(self, text: str) -> Optional[np.ndarray]:
        """Get embedding from cache if available."""
        key = self._normalize_query(text)
        with self._cache_lock:
            embedding = self._embedding_cache.get(key)
            if embedding is not None:
                self._embedding_cache.move_to_end(key)
            return embedding

    def _cache_embedding(self, text: str, embedding: np.ndarray):
        """Cache an embedding."""
        key = self._normalize_query(text)
        with self._cache_lock:
            self._embedding_cache[key] = embedding
            self._embedding_cache.move_to_end(key)
            while len(self._embedding_cache) > self._cache_max_size:
                self._embedding_cache.popitem(last=False)

    # -- public API ----------------------------------------------------------------------------

    def encode(self, texts: Union[str, List[str]], use_cache: bool = True) -> np.ndarray:
        """
        Generate embeddings for one or more texts.

        Args:
            texts: Single text string or list of texts
            use_cache: Whether to use/update the embedding cache

        Returns:
            numpy float32 array of embeddings: (384,) for a string, (n_texts, 384) for a list

        Raises:
            EmbeddingRequestError: a text is not a string (422, before anything is sent), or the
                service refused the request (another 4xx).
        """
        single = isinstance(texts, str)
        items = _checked_texts(texts)
        if not items:
            return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
        rows = [None] * len(items)
        missing = []
        for index, text in enumerate(items):
            cached = self._get_cached(text) if use_cache else None
            if cached is None:
                missing.append(index)
            else:
                rows[index] = cached
        if missing:
            uncached = [items[index] for index in missing]
            # With a service URL, _encode_http decides per request: the service, or the local model during an outage.
            computed = self._encode_http(uncached) if self.service_url else self._encode_local(uncached)
            for index, row in zip(missing, computed):
                rows[index] = row
                if use_cache:
                    self._cache_embedding(items[index], row)
        result = np.array(rows, dtype=np.float32)
        return result[0] if single else result

    def warmup(self):
        """
        Warm up the embedding service/model.

        In HTTP mode, makes a test request to ensure service is ready.
        In local mode, loads and warms up the model.
        """
        logger.info(f"Warming up embedding client (service_url={self.service_url})")
        if self.service_url and not self._use_local:
            try:
                _ = self.encode(["warmup query for embedding client"], use_cache=False)
                if self._use_local:
                    logger.info("Embedding warmup done on the local model (the service is unavailable)")
                else:
                    logger.info("Embedding service warmup successful")
            except Exception as e:
                logger.warning(f"Embedding service warmup failed: {e}")
                if self.fallback_to_local:
                    self._use_local = True
                    self._load_local_model()
        else:
            self._load_local_model()

    def health_check(self) -> dict:
        """Check if the embedding service is healthy."""
        if not self.service_url:
            return {
                "status": "local",
                "mode": "local",
                "model_loaded": self._local_model is not None,
            }
        try:
            answer = self._request("GET", "/health", None, min(float(self.timeout), _HEALTH_TIMEOUT))
            if answer.raise_for_status is not None:
                answer.raise_for_status()
            elif answer.status >= 400:
                raise EmbeddingServiceUnavailable("HTTP %s: %s" % (answer.status, answer.text()[:200]))
            data = answer.payload()
            return {
                "status": data.get("status", "ok"),
                "mode": "http",
                "service_url": self.service_url,
                "model_loaded": data.get("model_loaded", False),
                "model_name": data.get("model_name"),
                "fallback_active": self._use_local,
            }
        except Exception as e:
            return {
                "status": "error",
                "mode": "http",
                "service_url": self.service_url,
                "error": str(e.error if isinstance(e, _TransportError) else e),
                "fallback_available": self.fallback_to_local,
                "fallback_active": self._use_local,
            }

    def close(self):
        """Close HTTP client if open (the client stays usable: the next call opens a new one)."""
        with self._state_lock:
            client, self._http_client = self._http_client, None
        if client is not None:
            client.close()

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, method, path, body, timeout):
        """One HTTP exchange with the service: an _Answer, or _TransportError when nothing came back."""
        url = self.service_url.rstrip("/") + path
        headers = {"Accept": "application/json"}
        headers.update(_trace_headers())
        client = self._get_http_client()
        if client is not None:
            try:
                if method == "GET":
                    response = client.get(url, headers=headers, timeout=timeout)
                else:
                    response = client.post(url, json=body, headers=headers, timeout=timeout)
            except httpx.TransportError as error:
                raise _TransportError(error)
            return _Answer(response.status_code, lambda name: response.headers.get(name), response.json,
                           lambda: response.text, response.raise_for_status)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, received, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, received, raw = error.code, error.headers, error.read()
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise _TransportError(error)
        text = raw.decode("utf-8", "replace")
        return _Answer(status, received.get, lambda: json.loads(text), lambda: text)

    def _encode_http(self, texts: List[str]) -> List[np.ndarray]:
        """Encode texts using the HTTP embedding service: requests sized by their work, a few in flight,
        vectors in input order."""
        requests = _plan_requests(texts, self.max_batch, self.max_batch_chars)
        if len(requests) == 1:
            return self._embed_chunk(texts)
        failed = threading.Event()
        window = _Window(self.max_in_flight)

        def embed_unless_failed(chunk):
            with window:
                if failed.is_set():
                    return None  # an earlier request failed: the call is over, send nothing more
                refused = []
                try:
                    rows = self._embed_chunk(chunk, on_busy=lambda: (refused.append(True), window.narrow()))
                except BaseException:
                    failed.set()
                    raise
                if refused:
                    window.widen()  # the request the service turned away has been served
                return rows

        rows = [None] * len(texts)
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(requests))) as pool:
            # Each request runs in a copy of the caller's context, so its trace context goes along.
            futures = [pool.submit(contextvars.copy_context().run, embed_unless_failed, [texts[i] for i in indices])
                       for indices in requests]
            try:
                for indices, future in zip(requests, futures):
                    for index, row in zip(indices, future.result() or ()):  # None: skipped after a failure, raised in its turn
                        rows[index] = row
            finally:
                failed.set()
        return rows

    def _embed_chunk(self, texts, on_busy=None):
        route = self._route()
        if route == "local":
            return self._encode_fallback(texts)
        if route == "probe":
            ready = False
            try:
                ready = self._service_ready()
            finally:
                self._probe_done(ready)
            if not ready:
                return self._encode_fallback(texts)
        try:
            return self._request_embeddings(texts, on_busy)
        except _Outage as outage:
            if not self.fallback_to_local:
                raise outage.error
            self._switch_to_local(str(outage))
            return self._encode_fallback(texts)

    def _service_ready(self):
        try:
            return self._request("GET", "/health", None, min(float(self.timeout), _PROBE_TIMEOUT)).status == 200
        except _TransportError:
            return False

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
        logger.warning("Falling back to local model: embedding service %s unavailable (%s); trying the service again in %.0f s",
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

    def _request_embeddings(self, texts, on_busy=None):
        """POST /embed with retries; raises _Outage when they are spent, EmbeddingRequestError for a 4xx.

        An answer that says when to come back (Retry-After: the service is starting or busy, not gone)
        is waited for as long as the timeout allows; other failures are retried max_retries times.
        """
        started = time.perf_counter()
        deadline = time.monotonic() + float(self.timeout)
        failures = 0
        while True:
            retry_after = None
            try:
                answer = self._request("POST", "/embed", {"texts": texts}, max(0.001, deadline - time.monotonic()))
            except _TransportError as failure:
                reason, error = str(failure), self._transport_error(failure)
            else:
                if answer.status == 200:
                    return self._parse_rows(answer, len(texts), started)
                detail = _detail(answer.text())
                if answer.status not in (408, 429) and answer.status < 500:
                    raise EmbeddingRequestError(answer.status, detail)
                reason = "HTTP %s: %s" % (answer.status, detail)
                error = self._status_error(answer, reason)
                retry_after = _retry_after_seconds(answer.header("retry-after"))
            if retry_after is None:
                failures += 1
            elif on_busy is not None:
                on_busy()
            delay = _retry_delay(max(failures, 1), retry_after)
            # Out of retries, out of time (a wait past the deadline is no use), or another call went local.
            if failures > self.max_retries or time.monotonic() + delay >= deadline or self._gave_up_on_service():
                raise _Outage(reason, error)
            logger.debug("Embedding request of %d texts failed (%s); retrying in %.2f s", len(texts), reason, delay)
            time.sleep(delay)

    # Without a fallback, an outage raises what the callers' client raised: httpx's own exception (ConnectError,
    # a TimeoutException, HTTPStatusError). Without httpx: EmbeddingServiceUnavailable.

    def _transport_error(self, failure):
        if httpx is not None and isinstance(failure.error, httpx.HTTPError):
            return failure.error
        unavailable = EmbeddingServiceUnavailable("embedding service %s unavailable: %s" % (self.service_url, failure))
        unavailable.__cause__ = failure.error
        return unavailable

    def _status_error(self, answer, reason):
        if answer.raise_for_status is not None:
            try:
                answer.raise_for_status()
            except Exception as error:
                return error
        return EmbeddingServiceUnavailable("embedding service %s unavailable: %s" % (self.service_url, reason))

    def _gave_up_on_service(self):
        return self.fallback_to_local and self._local_since is not None

    @staticmethod
    def _parse_rows(answer, expected, started):
        try:
            data = answer.payload()
            embeddings = data["embeddings"]
        except (ValueError, KeyError, TypeError):
            embeddings = None
        if not isinstance(embeddings, list) or len(embeddings) != expected:
            problem = "the service answered 200 without %d embeddings" % expected
            raise _Outage(problem, EmbeddingServiceUnavailable(problem))
        logger.debug("HTTP embedding: %d texts in %.1fms (service: %.1fms)", expected,
                     (time.perf_counter() - started) * 1000, data.get("processing_time_ms") or 0)
        return [np.array(vector, dtype=np.float32) for vector in embeddings]

    # -- local ---------------------------------------------------------------------------------

    def _encode_local(self, texts: List[str]) -> List[np.ndarray]:
        """Encode texts using local model."""
        start = time.perf_counter()
        model = self._load_local_model()
        vectors = model.encode(list(texts), convert_to_numpy=True)
        if len(vectors) != len(texts):
            raise EmbeddingServiceUnavailable("the local model returned %d vectors for %d texts" % (len(vectors), len(texts)))
        logger.debug("Local embedding: %d texts in %.1fms", len(texts), (time.perf_counter() - start) * 1000)
        return [np.array(vector, dtype=np.float32) for vector in vectors]

    def _encode_fallback(self, texts):
        """The local model in place of the service; a failure says both are unavailable."""
        try:
            return self._encode_local(texts)
        except Exception as error:
            raise EmbeddingServiceUnavailable(
                "embedding service %s unavailable and the local model failed: %s" % (self.service_url, error)) from error


# Global client instance
_embedding_client: Optional[EmbeddingClient] = None
_embedding_client_lock = threading.Lock()


def get_embedding_client(warmup: bool = False) -> EmbeddingClient:
    """
    Get the global embedding client instance.

    Args:
        warmup: If True, warm up the client (call at app startup)
    """
    global _embedding_client
    with _embedding_client_lock:
        if _embedding_client is None:
            _embedding_client = EmbeddingClient()
        client = _embedding_client
    if warmup:
        client.warmup()
    return client


def warmup_embedding_client():
    """Warm up the embedding client. Call at application startup."""
    get_embedding_client(warmup=True)
