"""One bulk re-index caller of the mixed benchmark (bench/mixed.ts), as Django's
``RAGService.update_event_embeddings()`` does it (api/rag_service.py in SuperSchedules/superschedules):
every text in one ``encode(texts, use_cache=False)`` call on the real Python client, which splits
them into sequential requests itself. Run once per caller (Celery's workers are processes).

    python3 bench/bulk-reindex.py --service-url http://127.0.0.1:8003 --client-dir clients/python --texts texts.json

Prints one JSON line: texts sent, vectors back, seconds, texts embedded by the client's local
fallback model (an outage: a timeout or repeated 5xx), and the warnings the client logged.

Only the client's public face is used (``EmbeddingClient(service_url=...)``, ``encode(list)``), so
whichever version of clients/python/embedding_client.py is in the tree is the one measured. Two
stand-ins, installed only when the interpreter lacks the real module: numpy (the client's one
dependency; vectors become lists, all this script counts) and sentence_transformers (the local
fallback: it counts the texts it is given instead of loading a 90 MB model).
"""

import argparse
import json
import logging
import sys
import time
import types


class _Vectors(list):
    """What numpy.array gives the client here: a list with the little of ndarray it may use."""

    @property
    def shape(self):
        return (len(self),) + (self[0].shape if self and isinstance(self[0], _Vectors) else ())

    def tolist(self):
        return [item.tolist() if isinstance(item, _Vectors) else item for item in self]


class _CountingLocalModel(object):
    texts = 0

    def __init__(self, *args, **kwargs):
        pass

    def encode(self, texts, **kwargs):
        _CountingLocalModel.texts += len(texts)
        return _Vectors(_Vectors([0.0] * 384) for _ in texts)


def install_stand_ins():
    try:
        import numpy  # noqa: F401
    except ImportError:
        numpy = types.ModuleType("numpy")
        numpy.float32 = "float32"
        numpy.array = numpy.asarray = lambda obj, dtype=None: _Vectors(_Vectors(item) if isinstance(item, (list, tuple)) else item for item in obj)
        numpy.zeros = lambda shape, dtype=None: _Vectors(_Vectors([0.0] * shape[1]) for _ in range(shape[0]))
        numpy.ndarray = _Vectors
        sys.modules["numpy"] = numpy
    local = types.ModuleType("sentence_transformers")
    local.SentenceTransformer = _CountingLocalModel
    sys.modules["sentence_transformers"] = local


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service-url", required=True)
    parser.add_argument("--client-dir", required=True, help="the folder holding embedding_client.py")
    parser.add_argument("--texts", required=True, help="a JSON file: a list of texts")
    args = parser.parse_args()

    install_stand_ins()
    sys.path.insert(0, args.client_dir)
    from embedding_client import EmbeddingClient

    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    with open(args.texts, encoding="utf-8") as source:
        texts = json.load(source)
    client = EmbeddingClient(service_url=args.service_url)
    started = time.monotonic()
    vectors = client.encode(texts, use_cache=False)
    seconds = time.monotonic() - started
    print(json.dumps({
        "texts": len(texts),
        "vectors": len(vectors),
        "seconds": seconds,
        "localFallbackTexts": _CountingLocalModel.texts,
        "warnings": warnings.messages,
    }))


if __name__ == "__main__":
    main()
