"""The client driven the way the callers drive it (SuperSchedules' api/services/health_aggregator.py and
api/rag_service.py), against the real service and with the service stopped. The three functions
below make the same calls, in the same order, on the same values as the callers' code.
"""

import os
import signal
import unittest
from unittest import mock

import support

EVENTS = [support.event_text(i) for i in range(250)]


def health_page_entry(client):
    """HealthAggregator.check_rag_service: health_check(), then .get() of mode, service_url and model_name."""
    try:
        health = client.health_check()
        return {"status": "healthy", "details": {
            "embedding_mode": health.get("mode", "unknown"),
            "embedding_service_url": health.get("service_url"),
            "model": health.get("model_name", "all-MiniLM-L6-v2"),
            "ready": True}}
    except Exception as error:
        return {"status": "unhealthy", "error": str(error)}


def update_event_embeddings(client, texts):
    """EventRAGService.update_event_embeddings: one encode() of every text without the cache, then each
    row's tolist() is stored in its event's pgvector column."""
    stored = []
    for _event, embedding in zip(texts, client.encode(texts, use_cache=False)):
        stored.append(embedding.tolist())
    return stored


def semantic_search_vector(client, query):
    """EventRAGService.semantic_search: encode(query) with the cache, then tolist() as the SQL parameter."""
    return client.encode(query).tolist()


class Callers(object):
    """Mixed into one TestCase per transport."""

    transport = None

    def setUp(self):
        self.module = support.load_client(self.transport)
        self.local = support.FakeLocalModel()  # what sentence-transformers would load, through the callers' hook
        patcher = mock.patch.object(self.module.EmbeddingClient, "_load_local_model", return_value=self.local)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, self.module, "_embedding_client", None)
        patcher = mock.patch.dict("os.environ")
        patcher.start()
        self.addCleanup(patcher.stop)

    def global_client(self, url):
        """get_embedding_client() as the RAG service gets it: EMBEDDING_SERVICE_URL names the service."""
        os.environ["EMBEDDING_SERVICE_URL"] = url
        client = self.module.get_embedding_client()
        self.addCleanup(client.close)
        return client

    def logs(self):
        return support.LogRecords(self.module.__name__)


class WithTheServiceUp(Callers):
    @classmethod
    def setUpClass(cls):
        # Admission's queue-wait bound is the service's own business (test/app): here a busy test machine must
        # not decide whether requests are admitted. How the client copes with refusals: test_bulk.py.
        cls.service = support.ServiceProcess(MAX_QUEUE_WAIT_MS="60000").wait_healthy()

    @classmethod
    def tearDownClass(cls):
        cls.service.stop(signal.SIGKILL)

    def setUp(self):
        super().setUp()
        self.relay = support.CountingRelay(self.service.url, gather=2)  # holds requests so overlap is seen
        self.addCleanup(self.relay.close)

    def test_startup_warmup_and_the_health_page_show_the_service(self):
        client = self.global_client(self.relay.url)
        with self.logs() as logs:
            self.module.warmup_embedding_client()
        self.assertEqual(self.relay.embed_sizes(), [1])
        self.assertEqual(health_page_entry(client), {"status": "healthy", "details": {
            "embedding_mode": "http", "embedding_service_url": self.relay.url, "model": "all-MiniLM-L6-v2-synthetic", "ready": True}})
        self.assertEqual([r.getMessage() for r in logs.records],
                         ["Warming up embedding client (service_url=%s)" % self.relay.url, "Embedding service warmup successful"])

    def test_reindex_of_250_events_goes_in_sized_requests_two_at_a_time_and_each_event_gets_its_vector(self):
        client = self.global_client(self.relay.url)
        with self.logs() as logs:
            stored = update_event_embeddings(client, EVENTS)
        self.maxDiff = None
        self.assertEqual(([r.getMessage() for r in logs.records], self.local.texts, client.mode), ([], 0, "service"))
        self.assertEqual(stored, [self.relay.answered[text] for text in EVENTS])  # each event got its own vector
        sent = [text for body in self.relay.served for text in body]
        self.assertEqual(sorted(sent), sorted(EVENTS))  # each event sent once
        budget = client.max_batch_chars
        self.assertEqual(budget, 2000)

        def chars(texts):
            return sum(min(len(text), 1200) for text in texts)  # a text costs nothing more past 256 tokens

        # Requests hold texts of similar length (the service pads a batch to its longest), as many as fit.
        bodies = sorted(self.relay.served, key=lambda body: (min(map(len, body)), max(map(len, body))))
        lengths = [len(text) for body in bodies for text in sorted(body, key=len)]
        self.assertEqual(lengths, sorted(lengths))
        for body, following in zip(bodies, bodies[1:] + [None]):
            self.assertLessEqual((len(body), chars(body)), (100, budget))
            if following:  # the next text in length order would not have fitted
                self.assertTrue(len(body) == 100 or chars(body) + min(len(following[0]), 1200) > budget)
        self.assertEqual(self.relay.max_open, 2)

    def test_search_embeds_one_query_and_a_repeated_query_comes_from_the_cache(self):
        client = self.global_client(self.relay.url)
        first = semantic_search_vector(client, "storytime for toddlers this Saturday")
        again = semantic_search_vector(client, "Storytime for toddlers  this saturday")
        self.assertEqual(len(first), 384)
        self.assertEqual(first, self.relay.answered["storytime for toddlers this Saturday"])
        self.assertEqual(again, first)
        self.assertEqual(self.relay.embed_sizes(), [1])


class WithTheServiceStopped(Callers):
    @classmethod
    def setUpClass(cls):
        stopped = support.ServiceProcess().wait_healthy()
        cls.url = stopped.url
        stopped.stop()  # its port now refuses connections

    def test_the_health_page_still_reports_the_rag_service_and_the_client_says_why(self):
        client = self.global_client(self.url)
        self.assertEqual(health_page_entry(client), {"status": "healthy", "details": {
            "embedding_mode": "http", "embedding_service_url": self.url, "model": "all-MiniLM-L6-v2", "ready": True}})
        health = client.health_check()
        self.assertEqual((health["status"], health["fallback_available"], health["fallback_active"]), ("error", True, False))
        self.assertIn("refused", health["error"].lower())

    def test_reindex_and_search_fall_back_to_the_local_model_with_one_warning(self):
        client = self.global_client(self.url)
        with self.logs() as logs:
            stored = update_event_embeddings(client, EVENTS)
            query = semantic_search_vector(client, "jazz in the park")
        self.assertEqual(len(stored), 250)
        self.assertTrue(all(support.is_local(row) for row in stored + [query]))
        self.assertEqual(self.local.texts, 251)
        self.assertEqual((client.mode, client._use_local, client.health_check()["fallback_active"]), ("local", True, True))
        self.assertEqual(logs.levels(), ["WARNING"])
        self.assertIn("Falling back to local model", logs.records[0].getMessage())

    def test_startup_warmup_falls_back_and_says_so(self):
        self.global_client(self.url)
        with self.logs() as logs:
            self.module.get_embedding_client(warmup=True)
        self.assertEqual(logs.levels(), ["INFO", "WARNING", "INFO"])
        self.assertEqual(logs.records[-1].getMessage(), "Embedding warmup done on the local model (the service is unavailable)")
        self.assertEqual(self.local.texts, 1)


ServiceUpWithoutHttpx, ServiceUpWithHttpx = support.for_each_transport(WithTheServiceUp)
ServiceStoppedWithoutHttpx, ServiceStoppedWithHttpx = support.for_each_transport(WithTheServiceStopped)


if __name__ == "__main__":
    unittest.main()
