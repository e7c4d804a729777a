"""One bulk caller of the re-index benchmarks (bench/python-caller.ts, for bench/python-reindex.ts and the
mixed part of npm run bench): the Python client's
get_embedding_client().encode(texts, use_cache=False), as the callers' RAG service re-indexes events
(api/rag_service.py, update_event_embeddings), against EMBEDDING_SERVICE_URL.

  python3 bench/python/reindex.py TEXTS_JSON PART/PARTS [--max-batch-chars N] [--max-in-flight N]

Embeds its part (a contiguous slice, as a Celery task gets one) and prints one JSON line: seconds,
requests and their latencies (from the client's debug log), retries by reason, and the texts the
local model had to embed (fallbacks: a counting stand-in stands behind the client's _load_local_model).
The client module, and numpy or its stand-in, come from the Python client's test support.
"""

import argparse
import json
import logging
import os
import re
import sys
import time
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "clients", "python"))
import support  # noqa: E402

REQUEST_LINE = re.compile(r"^HTTP embedding: (\d+) texts in ([\d.]+)ms \(service: ([\d.]+)ms\)$")
RETRY_LINE = re.compile(r"^Embedding request of \d+ texts failed \((.*)\); retrying in")


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelname, record.getMessage()))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("texts")
    parser.add_argument("part")
    parser.add_argument("--max-batch-chars", type=int)
    parser.add_argument("--max-in-flight", type=int)
    args = parser.parse_args()
    part, parts = (int(n) for n in args.part.split("/"))
    with open(args.texts) as f:
        everything = json.load(f)
    texts = everything[part * len(everything) // parts:(part + 1) * len(everything) // parts]

    module = support.load_client("httpx" if support.REAL_MODULES else "urllib")
    records = Records()
    module.logger.addHandler(records)
    module.logger.setLevel(logging.DEBUG)
    local = support.FakeLocalModel()
    with mock.patch.object(module.EmbeddingClient, "_load_local_model", return_value=local):
        client = module.get_embedding_client()
        if args.max_batch_chars is not None:
            client.max_batch_chars = args.max_batch_chars
        if args.max_in_flight is not None:
            client.max_in_flight = args.max_in_flight
        started = time.monotonic()
        vectors = client.encode(texts, use_cache=False)
        seconds = time.monotonic() - started
    stored = [vector.tolist() for vector in vectors]  # as the RAG service stores them

    latencies, service_ms, retries = [], [], {}
    for level, message in records.messages:
        request = REQUEST_LINE.match(message)
        if request:
            latencies.append(float(request.group(2)))
            service_ms.append(float(request.group(3)))
        retry = RETRY_LINE.match(message)
        if retry:
            reason = "timed out" if "timed out" in retry.group(1) else retry.group(1).split(":")[0]
            retries[reason] = retries.get(reason, 0) + 1
    print(json.dumps({
        "part": args.part,
        "texts": len(texts),
        "vectors": len(stored),
        "seconds": seconds,
        "maxBatchChars": client.max_batch_chars,
        "maxInFlight": client.max_in_flight,
        "requests": len(latencies),
        "latencyMs": {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99), "max": max(latencies or [0])},
        "serviceMs": {"p50": percentile(service_ms, 0.5), "max": max(service_ms or [0])},
        "retries": retries,
        "timeouts": retries.get("timed out", 0) + sum("(timed out)" in message for level, message in records.messages if level == "WARNING"),
        "fallbackTexts": local.texts,
        "warnings": [message for level, message in records.messages if level in ("WARNING", "ERROR")],
    }))


if __name__ == "__main__":
    main()
