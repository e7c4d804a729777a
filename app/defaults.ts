/**
 * Defaults that more than one module states, written once here and imported everywhere, the Pulumi
 * program included (infra/ reads the shutdown slack from this file). No imports: infra, the
 * benchmark and the tools load it without loading the service.
 */

/** The model this service serves, as it names it in responses and /health. */
export const DEFAULT_MODEL_NAME = 'all-MiniLM-L6-v2';

/** Where the model directory is when EMBEDDING_MODEL_DIR is unset, relative to the working directory. */
export const DEFAULT_MODEL_DIR = './models/all-MiniLM-L6-v2';

/** The ONNX file inside a model directory, laid out like the model's public repository. */
export const DEFAULT_ONNX_FILE = 'onnx/model.onnx';

/** The public Hugging Face hub; HF_ENDPOINT (a mirror) replaces it. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/**
 * V8 flags the service runs with, wherever it is started: the image's CMD, `npm start`, the tests
 * and the benchmark. From Node 22, V8 sizes each isolate's young generation from the host's memory:
 * on a large host the main and the inference thread each grow 64 MB semi-spaces under a burst of
 * large bodies (measured on Node 24, 64 bodies of 2 MB: peak RSS 560-654 MB; with 16 MB: 511 MB).
 * 16 MB is Node 20's size and what Node derives inside a 1 GiB container.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

/** Characters of a text that are tokenised: a longer text cannot survive the 256-token truncation anyway. */
export const DEFAULT_MAX_CHARS_PER_TEXT = 20_000;

/** Texts admitted and not yet answered before new requests are refused (MAX_ADMITTED_TEXTS). */
export const DEFAULT_MAX_ADMITTED_TEXTS = 4096;

/**
 * Time between the end of the shutdown grace and ECS's SIGKILL: the container's stopTimeout is the
 * grace plus this (infra/sizing.ts). The process's own watchdog fires half a second earlier
 * (main.ts), so it ends itself, logs flushed, before ECS kills it.
 */
export const SHUTDOWN_SLACK_MS = 5000;
