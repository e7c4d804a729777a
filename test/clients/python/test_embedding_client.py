"""Acceptance tests of clients/python/embedding_client.py against the real service on loopback.

Run by test/clients/python-client.test.ts (npm test); by hand, after `npm run build`:
  EMBEDDING_TEST_NODE=node EMBEDDING_TEST_MAIN_JS=dist/app/main.js \\
  EMBEDDING_TEST_MODEL_DIR=.cache/models/synthetic-full-seed42-int8 \\
  python3 -m unittest discover -s test/clients/python -v
"""

import os
import signal
import threading
import time
import unittest

import support

embedding_client = support.load_client("urllib")
EmbeddingClient = embedding_client.EmbeddingClient
EmbeddingRequestError = embedding_client.EmbeddingRequestError
EmbeddingServiceUnavailable = embedding_client.EmbeddingServiceUnavailable


def texts(n, tag="text"):
    return ["%s %d: jazz night, farmers market, book club number %d" % (tag, i, i) for i in range(n)]


def rows(array):
    return [array[i].tolist() for i in range(len(array))]


class WithServiceUp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = support.ServiceProcess().wait_healthy()
        cls.url = cls.service.url

    @classmethod
    def tearDownClass(cls):
        cls.service.stop(signal.SIGKILL)

    def setUp(self):
        self.relay = support.CountingRelay(self.url)  # counts what reaches the service
        self.addCleanup(self.relay.close)

    def client(self, **kwargs):
        self.local = support.FakeLocalModel()
        kwargs.setdefault("service_url", self.url)
        client = EmbeddingClient(local_model=self.local, **kwargs)
        self.addCleanup(client.close)
        return client

    def test_returns_the_services_vectors_in_the_same_shapes(self):
        client = self.client()
        batch = texts(5, "normal")
        vectors = client.encode(batch)
        self.assertEqual(vectors.shape, (5, 384))
        self.assertEqual(rows(vectors), support.rounded(support.post_embed(self.url, batch)))
        one = client.encode("a single text, as Django calls it", use_cache=False)
        self.assertEqual(one.shape, (384,))
        self.assertEqual(one.tolist(), support.rounded(support.post_embed(self.url, ["a single text, as Django calls it"]))[0])
        self.assertEqual(client.encode([]).shape, (0, 384))
        self.assertEqual((self.local.texts, client.mode), (0, "service"))
        self.assertEqual(client.health_check()["status"], "ok")

    def test_caches_1000_texts_keyed_by_lowercased_whitespace_collapsed_text(self):
        client = self.client(service_url=self.relay.url)
        first = client.encode("Jazz   night at the\tBlue Room")
        again = client.encode("  jazz night AT the blue room ")
        self.assertEqual(again.tolist(), first.tolist())
        self.assertEqual(self.relay.embed_sizes(), [1])  # the second came from the cache
        client.encode(texts(1100, "cache"))
        self.assertEqual(len(client._embedding_cache), 1000)

    def test_splits_250_short_texts_into_requests_of_100_and_keeps_their_order_without_falling_back(self):
        client = self.client(service_url=self.relay.url, max_batch_chars=10 ** 6, max_in_flight=1)
        batch = texts(250, "bulk")
        vectors = client.encode(batch, use_cache=False)
        self.assertEqual(self.relay.embed_sizes(), [100, 100, 50])
        self.assertEqual(rows(vectors), support.rounded([self.relay.answered[text] for text in batch]))
        self.assertEqual((self.local.texts, client.mode), (0, "service"))

    def test_raises_a_422_as_the_callers_error_and_never_switches_to_local(self):
        # Over the service's 100 texts per request.
        client = self.client(service_url=self.relay.url, max_batch=101, max_batch_chars=10 ** 6)
        with support.LogRecords() as logs:
            with self.assertRaises(EmbeddingRequestError) as raised:
                client.encode(texts(101, "too many"), use_cache=False)
        self.assertEqual(raised.exception.status, 422)
        self.assertIsInstance(raised.exception, ValueError)
        self.assertEqual((self.local.texts, client.mode, logs.levels()), (0, "service", []))
        client.encode(["still served by the service"], use_cache=False)
        self.assertEqual(self.relay.embed_sizes(), [101, 1])

    def test_retries_a_503_after_its_retry_after(self):
        def handle(handler, request, index):
            if index == 0:
                support.answer(handler, 503, {"detail": "model is loading"}, {"Retry-After": "1"})
            else:
                support.relay(handler, request, self.url)

        stub = support.LoopbackServer(handle)
        try:
            client = self.client(service_url=stub.url)
            batch = texts(3, "retry")
            with support.LogRecords() as logs:
                vectors = client.encode(batch, use_cache=False)
            self.assertEqual(rows(vectors), support.rounded(support.post_embed(self.url, batch)))
            self.assertEqual(len(stub.requests), 2)
            self.assertGreaterEqual(stub.requests[1]["at"] - stub.requests[0]["at"], 1.0)
            self.assertEqual((self.local.texts, client.mode, logs.levels()), (0, "service", []))
        finally:
            stub.close()

    def test_get_embedding_client_is_one_client_for_EMBEDDING_SERVICE_URL(self):
        previous = os.environ.get("EMBEDDING_SERVICE_URL")
        os.environ["EMBEDDING_SERVICE_URL"] = self.url
        embedding_client._embedding_client = None
        try:
            client = embedding_client.get_embedding_client()
            self.assertIs(embedding_client.get_embedding_client(), client)
            self.assertEqual(client.service_url, self.url)
            self.assertEqual(client.encode("from the module-level client").shape, (384,))
        finally:
            embedding_client._embedding_client = None
            if previous is None:
                del os.environ["EMBEDDING_SERVICE_URL"]
            else:
                os.environ["EMBEDDING_SERVICE_URL"] = previous


class Outages(unittest.TestCase):
    def test_falls_back_while_the_service_is_stopped_and_returns_within_the_recheck_interval(self):
        first = support.ServiceProcess().wait_healthy()
        port, url = first.port, first.url
        local = support.FakeLocalModel()
        recheck = 1.5
        client = EmbeddingClient(url, timeout=3.0, recheck_interval=recheck, local_model=local)
        batch = texts(4, "outage")
        with support.LogRecords() as logs:
            self.assertFalse(any(support.is_local(v) for v in client.encode(batch, use_cache=False)))
            first.stop()
            for _ in range(5):
                vectors = client.encode(batch, use_cache=False)
                self.assertEqual(vectors.shape, (4, 384))
                self.assertTrue(all(support.is_local(v) for v in vectors))
            self.assertEqual(client.mode, "local")
            self.assertEqual(client.health_check()["status"], "error")
            self.assertEqual(logs.levels(), ["WARNING"])  # the switch, once: not once per call

            second = support.ServiceProcess(port=port).wait_healthy()
            try:
                back = time.monotonic()
                while client.mode == "local" and time.monotonic() - back < recheck + 3:
                    client.encode(batch, use_cache=False)
                    time.sleep(0.05)
                self.assertEqual(client.mode, "service")
                self.assertLessEqual(time.monotonic() - back, recheck + 1.0)
                vectors = client.encode(batch, use_cache=False)
                self.assertEqual(rows(vectors), support.rounded(support.post_embed(url, batch)))
            finally:
                second.stop(signal.SIGKILL)
        self.assertEqual(logs.levels(), ["WARNING", "INFO"])
        self.assertIn("unavailable", logs.records[0].getMessage())
        self.assertIn("is back", logs.records[1].getMessage())

    def test_loses_no_call_when_the_service_is_killed_while_8_threads_call_it(self):
        service = support.ServiceProcess().wait_healthy()
        local = support.FakeLocalModel()
        client = EmbeddingClient(service.url, timeout=3.0, recheck_interval=60, local_model=local)
        completed, failures = [0], []
        lock = threading.Lock()

        def caller(thread):
            for call in range(30):
                try:
                    vectors = client.encode(texts(3, "thread %d call %d" % (thread, call)), use_cache=False)
                    if vectors.shape != (3, 384):
                        raise AssertionError("shape %s" % (vectors.shape,))
                except Exception as error:  # any failure counts
                    with lock:
                        failures.append(repr(error))
                with lock:
                    completed[0] += 1

        threads = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
        try:
            with support.LogRecords() as logs:
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + 60
                while completed[0] < 40 and time.monotonic() < deadline:
                    time.sleep(0.005)
                service.stop(signal.SIGKILL)
                for thread in threads:
                    thread.join(timeout=120)
        finally:
            service.stop(signal.SIGKILL)
        self.assertEqual(failures, [])
        self.assertEqual(completed[0], 240)
        self.assertGreater(local.texts, 0)
        self.assertEqual((client.mode, logs.levels()), ("local", ["WARNING"]))

    def test_gives_up_on_a_silent_service_within_its_timeout(self):
        stub = support.LoopbackServer(lambda handler, request, index: stub.released.wait(30))
        try:
            local = support.FakeLocalModel()
            client = EmbeddingClient(stub.url, timeout=1.0, local_model=local)
            started = time.monotonic()
            with support.LogRecords() as logs:
                vectors = client.encode(["nobody answers"], use_cache=False)
            elapsed = time.monotonic() - started
            self.assertTrue(support.is_local(vectors[0]))
            self.assertGreaterEqual(elapsed, 0.95)
            self.assertLess(elapsed, 2.0)  # margin for a loaded machine
            self.assertIn("timed out", logs.records[0].getMessage())

            strict = EmbeddingClient(stub.url, fallback_to_local=False, timeout=0.5, local_model=local)
            with self.assertRaises(EmbeddingServiceUnavailable):
                strict.encode(["nobody answers"], use_cache=False)
        finally:
            stub.close()


class Tracing(unittest.TestCase):
    def test_sends_the_callers_trace_context_and_the_services_spans_continue_it(self):
        receiver = support.OtlpReceiver()
        service = support.ServiceProcess(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url).wait_healthy()
        trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
        token = support.FakeTracing.set("00-%s-%s-01" % (trace_id, parent_id), "chat=py")
        try:
            client = EmbeddingClient(service.url, local_model=support.FakeLocalModel())
            client.encode("where is the jazz night?", use_cache=False)
            self.assertEqual(service.stop(), 0)  # SIGTERM flushes the exporter
        finally:
            support.FakeTracing.reset(token)
            service.stop(signal.SIGKILL)
            receiver.close()
        server = [s for s in receiver.spans if s["traceId"] == trace_id and s["kind"] == 2]
        self.assertEqual(len(server), 1)
        self.assertEqual((server[0]["parentSpanId"], server[0].get("traceState")), (parent_id, "chat=py"))
        self.assertEqual(server[0]["name"], "embeddings all-MiniLM-L6-v2-synthetic")
        self.assertEqual(support.attribute(server[0], "gen_ai.operation.name"), "embeddings")
        inference = [s for s in receiver.spans if s["name"] == "inference"
                     and any(link["spanId"] == server[0]["spanId"] for link in s.get("links", []))]
        self.assertEqual(len(inference), 1)
        self.assertEqual((inference[0]["traceId"], inference[0]["parentSpanId"]), (trace_id, server[0]["spanId"]))


if __name__ == "__main__":
    unittest.main()
