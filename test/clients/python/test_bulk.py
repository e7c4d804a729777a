"""Bulk calls: requests sized by their expected work (texts and characters), two in flight, in order."""

import json
import signal
import threading
import time
import unittest

import support

embedding_client = support.load_client("urllib")
EmbeddingClient = embedding_client.EmbeddingClient
plan = embedding_client._plan_requests


def sizes(requests):
    return [len(indices) for indices in requests]


class Planning(unittest.TestCase):
    def test_short_texts_fill_a_request_up_to_the_text_limit(self):
        self.assertEqual(sizes(plan(["x" * 30] * 250, 100, 4000)), [100, 100, 50])

    def test_long_texts_fill_a_request_up_to_the_character_budget(self):
        self.assertEqual(sizes(plan(["x" * 900] * 10, 100, 4000)), [4, 4, 2])

    def test_texts_of_similar_length_go_together_and_each_text_goes_once(self):
        texts = ["x" * 1000, "x" * 2500, "x" * 1500, "x" * 900, "x" * 100]
        self.assertEqual(plan(texts, 100, 4000), [[4, 3, 0, 2], [1]])  # costs 100, 900, 1000, 1200 | 1200
        mixed = ["y" * ((i * 37) % 1300) for i in range(300)]
        requests = plan(mixed, 100, 4000)
        self.assertEqual(sorted(i for indices in requests for i in indices), list(range(300)))
        lengths = [len(mixed[i]) for indices in requests for i in indices]
        self.assertEqual(lengths, sorted(lengths))

    def test_a_text_counts_no_more_than_its_first_256_tokens_cost(self):
        self.assertEqual(sizes(plan(["x" * 50_000] * 7, 100, 4000)), [3, 3, 1])

    def test_a_text_over_the_budget_goes_alone(self):
        self.assertEqual(plan(["a" * 100, "b" * 1200, "c" * 100], 100, 1000), [[0, 2], [1]])
        self.assertEqual(plan([], 100, 4000), [])

    def test_the_default_budget_is_200_characters_per_second_of_timeout(self):
        self.assertEqual(EmbeddingClient("http://127.0.0.1:1").max_batch_chars, 2000)
        self.assertEqual(EmbeddingClient("http://127.0.0.1:1", timeout=2.5).max_batch_chars, 500)
        self.assertEqual(EmbeddingClient("http://127.0.0.1:1", timeout=2.5, max_batch_chars=9000).max_batch_chars, 9000)


class AgainstTheService(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = support.ServiceProcess().wait_healthy()

    @classmethod
    def tearDownClass(cls):
        cls.service.stop(signal.SIGKILL)

    def test_every_request_of_a_bulk_call_carries_the_callers_trace_context(self):
        relay = support.CountingRelay(self.service.url, gather=2)
        self.addCleanup(relay.close)
        client = EmbeddingClient(relay.url, max_batch_chars=2000, local_model=support.FakeLocalModel())
        token = support.FakeTracing.set("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "celery=py")
        try:
            client.encode([support.event_text(i) for i in range(20)], use_cache=False)
        finally:
            support.FakeTracing.reset(token)
        headers = relay.embed_headers()
        self.assertGreater(len(headers), 2)
        self.assertEqual(relay.max_open, 2)  # the requests ran on other threads, each with the caller's context
        for each in headers:
            self.assertEqual((each.get("traceparent"), each.get("tracestate")),
                             ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "celery=py"))

    def test_after_a_busy_answer_nothing_new_is_sent_until_the_refused_request_is_served(self):
        batch = ["busy %d: jazz night, farmers market" % i for i in range(8)]
        refused, second_arrived = threading.Event(), threading.Event()

        def handle(handler, request, index):
            body = request["body"].decode()
            if not refused.is_set() and batch[0] in body:
                refused.set()
                second_arrived.wait(5)  # both requests are out when the busy answer comes back
                support.answer(handler, 503, {"detail": "server is at capacity"}, {"Retry-After": "1"})
                return
            if batch[2] in body and not second_arrived.is_set():
                second_arrived.set()
                time.sleep(0.5)  # answered once the client has read the busy answer
            support.relay(handler, request, self.service.url)

        stub = support.LoopbackServer(handle)
        self.addCleanup(stub.close)
        client = EmbeddingClient(stub.url, max_batch=2, local_model=support.FakeLocalModel())
        vectors = client.encode(batch, use_cache=False)
        self.assertLess(support.max_difference([v.tolist() for v in vectors], support.post_embed(self.service.url, batch)), 1e-5)
        first_texts = [json.loads(r["body"])["texts"][0] for r in stub.requests]
        # The first two requests go together (either may arrive first); after the first is refused, nothing
        # new is sent until its retry has been served, then the next two go together again.
        self.assertEqual(set(first_texts[:2]), {batch[0], batch[2]})
        self.assertEqual(first_texts[2], batch[0])
        self.assertEqual(set(first_texts[3:5]), {batch[4], batch[6]})
        self.assertEqual(client.mode, "service")

    def test_a_refused_request_stops_the_call_and_the_requests_not_yet_sent(self):
        arrived = []
        lock = threading.Lock()

        def handle(handler, request, index):
            with lock:
                arrived.append(json.loads(request["body"])["texts"])
            if index == 1:
                support.answer(handler, 422, {"detail": [{"loc": ["body", "texts"], "msg": "refused", "type": "test"}]})
            else:
                support.relay(handler, request, self.service.url)

        stub = support.LoopbackServer(handle)
        self.addCleanup(stub.close)
        local = support.FakeLocalModel()
        client = EmbeddingClient(stub.url, max_batch_chars=1000, local_model=local)
        with self.assertRaises(embedding_client.EmbeddingRequestError):
            client.encode([support.event_text(i) for i in range(60)], use_cache=False)
        self.assertLessEqual(len(arrived), 3)  # at most the one already in flight after the refusal
        self.assertEqual((local.texts, client.mode), (0, "service"))


if __name__ == "__main__":
    unittest.main()
