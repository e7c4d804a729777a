"""The callers' contract: clients/python/embedding_client.py copied over their api/embedding_client.py
must keep every public name, signature, default and return value, and the private hooks their tests
use (_load_local_model, _local_model, _use_local, the cache helpers). Each test runs twice: without
httpx (urllib) and with it (the stand-in in support.py), since the callers run with httpx.
"""

import inspect
import json
import os
import signal
import unittest
import urllib.error
import urllib.request
from unittest import mock

import support

service = None


def setUpModule():
    global service
    service = support.ServiceProcess().wait_healthy()


def tearDownModule():
    service.stop(signal.SIGKILL)


def service_refusal(body):
    """The service's own status and detail for a raw POST /embed body."""
    request = urllib.request.Request(service.url + "/embed", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["detail"]
    raise AssertionError("the service accepted %r" % (body,))


class Contract(object):
    """Mixed into one TestCase per transport (support.for_each_transport)."""

    transport = None

    def setUp(self):
        self.module = support.load_client(self.transport)
        self.EmbeddingClient = self.module.EmbeddingClient
        self.relay = support.CountingRelay(service.url)  # counts what reaches the service
        self.addCleanup(self.relay.close)
        self.addCleanup(setattr, self.module, "_embedding_client", None)
        patcher = mock.patch.dict("os.environ")
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop("EMBEDDING_SERVICE_URL", None)

    def client(self, *args, **kwargs):
        client = self.EmbeddingClient(*args, **kwargs)
        self.addCleanup(client.close)
        return client

    def local_client(self):
        """No service URL and no EMBEDDING_SERVICE_URL: local mode, with a counting model behind the hook."""
        model = support.FakeLocalModel()
        patcher = mock.patch.object(self.EmbeddingClient, "_load_local_model", return_value=model)
        loader = patcher.start()
        self.addCleanup(patcher.stop)
        return self.client(), model, loader

    # -- names, signatures, defaults -----------------------------------------------------------

    def test_keeps_the_callers_signatures_and_defaults(self):
        def parameters(function):
            return [(p.name, p.default) for p in inspect.signature(function).parameters.values()
                    if p.kind is not inspect.Parameter.KEYWORD_ONLY]

        empty = inspect.Parameter.empty
        self.assertEqual(parameters(self.EmbeddingClient.__init__),
                         [("self", empty), ("service_url", None), ("fallback_to_local", True), ("timeout", 10.0)])
        self.assertEqual(parameters(self.EmbeddingClient.encode), [("self", empty), ("texts", empty), ("use_cache", True)])
        for name in ("health_check", "warmup", "close"):
            self.assertEqual(parameters(getattr(self.EmbeddingClient, name)), [("self", empty)], name)
        self.assertEqual(parameters(self.module.get_embedding_client), [("warmup", False)])
        self.assertEqual(parameters(self.module.warmup_embedding_client), [])
        self.assertIsNone(self.module._embedding_client)

    def test_no_service_url_and_no_environment_means_local_mode(self):
        client, model, loader = self.local_client()
        self.assertIsNone(client.service_url)
        self.assertTrue(client.fallback_to_local)
        self.assertEqual(client.health_check(), {"status": "local", "mode": "local", "model_loaded": False})
        self.assertEqual(client.encode("story time for toddlers").shape, (384,))
        self.assertEqual(client.encode(["jazz", "chess club"]).shape, (2, 384))
        self.assertEqual((model.texts, loader.call_count, client.mode), (3, 2, "local"))

    def test_environment_names_the_service_when_the_argument_does_not(self):
        os.environ["EMBEDDING_SERVICE_URL"] = self.relay.url
        client = self.client()
        self.assertEqual(client.service_url, self.relay.url)
        self.assertEqual(client.encode("jazz night", use_cache=False).shape, (384,))
        self.assertEqual(self.relay.embed_sizes(), [1])

    # -- the private hooks the callers' tests use ------------------------------------------------

    def test_load_local_model_is_where_the_local_model_comes_from(self):
        client, model, loader = self.local_client()
        client._local_model = model  # as their tests set it; the hook is still what encode() asks
        vector = client.encode("farmers market")
        self.assertTrue(support.is_local(vector))
        self.assertEqual((loader.call_count, model.texts), (1, 1))

    def test_setting_use_local_sends_calls_to_the_local_model_until_it_is_cleared(self):
        model = support.FakeLocalModel()
        client = self.client(self.relay.url, local_model=model)
        self.assertFalse(client._use_local)
        client._use_local = True
        self.assertTrue(support.is_local(client.encode("book club", use_cache=False)))
        self.assertEqual((self.relay.embed_sizes(), client.mode), ([], "local"))
        client._use_local = False
        self.assertFalse(support.is_local(client.encode("book club", use_cache=False)))
        self.assertEqual((self.relay.embed_sizes(), client.mode, model.texts), ([1], "service", 1))

    def test_use_local_turns_true_when_the_service_cannot_be_reached(self):
        model = support.FakeLocalModel()
        client = self.client(support.closed_port_url(), local_model=model)
        with support.LogRecords(self.module.__name__) as logs:
            self.assertTrue(support.is_local(client.encode("chess tournament")))
        self.assertTrue(client._use_local)
        self.assertEqual(model.texts, 1)
        self.assertEqual(logs.levels(), ["WARNING"])
        self.assertIn("Falling back to local model", logs.records[0].getMessage())

    def test_cache_helpers_key_by_lowercased_whitespace_collapsed_text(self):
        client = self.client(self.relay.url)
        self.assertEqual(client._normalize_query("  Live\tMUSIC   tonight \n"), "live music tonight")
        vector = client.encode("Jazz   Night")
        self.assertIs(client._get_cached("  jazz night "), client._embedding_cache["jazz night"])
        self.assertEqual(client._get_cached("jazz night").tolist(), vector.tolist())
        self.assertIsNone(client._get_cached("folk night"))
        self.assertEqual(client.encode(" JAZZ NIGHT").tolist(), vector.tolist())
        self.assertEqual(self.relay.embed_sizes(), [1])  # the second came from the cache
        client._cache_embedding("Folk  Night", vector)
        self.assertIs(client._get_cached("folk night"), vector)
        self.assertEqual(client._cache_max_size, 1000)
        client._cache_max_size = 2
        client._cache_embedding("poetry", vector)
        self.assertEqual(len(client._embedding_cache), 2)

    # -- health_check, warmup, close -----------------------------------------------------------------

    def test_health_check_returns_the_callers_dict_from_the_service(self):
        client = self.client(service.url)
        self.assertEqual(client.health_check(), {"status": "ok", "mode": "http", "service_url": service.url,
                                                 "model_loaded": True, "model_name": "all-MiniLM-L6-v2-synthetic",
                                                 "fallback_active": False})

    def test_health_check_reports_an_unreachable_service_in_an_error_dict(self):
        url = support.closed_port_url()
        for fallback in (True, False):
            health = self.client(url, fallback_to_local=fallback).health_check()
            self.assertEqual({key: value for key, value in health.items() if key != "error"},
                             {"status": "error", "mode": "http", "service_url": url, "fallback_available": fallback,
                              "fallback_active": False})
            self.assertIn("refused", health["error"].lower())

    def test_get_embedding_client_makes_one_client_and_warms_it_up_only_when_asked(self):
        os.environ["EMBEDDING_SERVICE_URL"] = self.relay.url
        with mock.patch.object(self.EmbeddingClient, "warmup") as warmup:
            client = self.module.get_embedding_client()
            self.assertIs(self.module.get_embedding_client(), client)
            self.assertIs(self.module._embedding_client, client)
            self.assertEqual(warmup.call_count, 0)
            self.assertIs(self.module.get_embedding_client(warmup=True), client)
            self.assertEqual(warmup.call_count, 1)
            self.assertIsNone(self.module.warmup_embedding_client())
            self.assertEqual(warmup.call_count, 2)
        self.module._embedding_client = None  # as the callers' tests reset it
        self.assertIsNot(self.module.get_embedding_client(), client)

    def test_warmup_sends_one_request_to_the_service_or_loads_the_local_model(self):
        client = self.client(self.relay.url)
        self.assertIsNone(client.warmup())
        self.assertEqual(self.relay.embed_bodies(), [["warmup query for embedding client"]])
        local, model, loader = self.local_client()
        self.assertIsNone(local.warmup())
        self.assertEqual((loader.call_count, model.texts), (1, 0))

    def test_close_closes_connections_and_keeps_the_client_usable(self):
        httpx = self.module.test_httpx
        recorded = getattr(getattr(httpx, "Client", None), "made", None)  # the stand-in records its clients
        before = len(recorded) if recorded is not None else 0
        client = self.client(self.relay.url)
        client.encode("jazz", use_cache=False)
        client.close()
        client.encode("jazz", use_cache=False)
        self.assertEqual(self.relay.embed_sizes(), [1, 1])
        if recorded is not None:
            self.assertEqual([made.closed for made in recorded[before:]], [True, False])
        local, model, _ = self.local_client()
        local.encode("jazz")
        local._local_model = model
        local.close()
        self.assertIs(local._local_model, model)  # close() is about connections: the local model stays

    def test_without_a_fallback_an_outage_raises_what_the_callers_client_raised(self):
        client = self.client(support.closed_port_url(), fallback_to_local=False, local_model=support.FakeLocalModel())
        httpx = self.module.test_httpx
        expected = httpx.ConnectError if httpx is not None else self.module.EmbeddingServiceUnavailable
        with self.assertRaises(expected):
            client.encode("jazz")
        self.assertEqual(client.mode, "service")

    # -- bad input -------------------------------------------------------------------------------

    def test_a_non_string_text_is_the_services_422_raised_before_any_request(self):
        status, detail = service_refusal({"texts": ["ok", 5]})
        for use_cache in (True, False):
            client = self.client(self.relay.url)
            with self.assertRaises(self.module.EmbeddingRequestError) as raised:
                client.encode(["ok", 5], use_cache=use_cache)
            self.assertEqual((raised.exception.status, raised.exception.detail), (status, detail))
            self.assertIsInstance(raised.exception, ValueError)
        with self.assertRaises(self.module.EmbeddingRequestError) as raised:
            self.client(self.relay.url).encode(["ok", None, "fine", 2.5])
        self.assertEqual([item["loc"] for item in raised.exception.detail], [["body", "texts", 1], ["body", "texts", 3]])
        self.assertEqual(self.relay.requests, [])

    def test_input_that_is_not_a_string_or_a_list_is_a_422_before_any_request(self):
        _, detail = service_refusal({"texts": 5})
        client = self.client(self.relay.url)
        for value in (5, None, b"bytes", {"texts": ["a"]}):
            with self.assertRaises(self.module.EmbeddingRequestError) as raised:
                client.encode(value)
            self.assertEqual((raised.exception.status, raised.exception.detail), (422, detail))
        self.assertEqual(self.relay.requests, [])

    def test_bad_input_is_refused_in_local_mode_too_without_calling_the_model(self):
        client, model, loader = self.local_client()
        with self.assertRaises(self.module.EmbeddingRequestError):
            client.encode(["ok", None])
        self.assertEqual((loader.call_count, model.texts), (0, 0))

    def test_an_empty_list_is_an_empty_0_by_384_array_without_a_request(self):
        client = self.client(self.relay.url)
        local, model, loader = self.local_client()
        for each in (client, local):
            for use_cache in (True, False):
                self.assertEqual(each.encode([], use_cache=use_cache).shape, (0, 384))
        self.assertEqual((self.relay.requests, loader.call_count), ([], 0))


ContractWithoutHttpx, ContractWithHttpx = support.for_each_transport(Contract)


if __name__ == "__main__":
    unittest.main()
