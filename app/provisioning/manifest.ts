/**
 * The pin of the production model: one immutable revision of its public repository, and the
 * size and sha256 of every file the service needs from it. A download is checked against these
 * before anything lands at a final path (see download.ts).
 */

export interface PinnedFile {
  /** Path inside the repository (and inside the model directory), '/'-separated. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  /** Downloaded only when asked for by path (e.g. the int8 ONNX variant). */
  optional?: boolean;
}

export interface ModelPin {
  /** Repository id on the hub, `owner/name`. */
  repo: string;
  /** A full 40-hex commit id: branch names move, commits do not. */
  revision: string;
  files: readonly PinnedFile[];
}

/**
 * sentence-transformers/all-MiniLM-L6-v2 at commit c9745ed. Values collected from several public
 * pin lists that agree with each other; keep them exactly.
 */
export const ALL_MINILM_L6_V2: ModelPin = Object.freeze({
  repo: 'sentence-transformers/all-MiniLM-L6-v2',
  revision: 'c9745ed1d9f207416be6d2e6f8de32d1f16199bf',
  files: Object.freeze([
    { path: 'onnx/model.onnx', size: 90405214, sha256: '6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452' },
    { path: 'tokenizer.json', size: 466247, sha256: 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037' },
    { path: 'tokenizer_config.json', size: 350, sha256: 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b' },
    { path: 'special_tokens_map.json', size: 112, sha256: '303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3' },
    { path: 'vocab.txt', size: 231508, sha256: '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3' },
    { path: 'config.json', size: 612, sha256: '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41' },
    { path: 'config_sentence_transformers.json', size: 116, sha256: '061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3' },
    { path: 'sentence_bert_config.json', size: 53, sha256: 'fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7' },
    { path: 'modules.json', size: 349, sha256: '84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf' },
    { path: '1_Pooling/config.json', size: 190, sha256: '4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23' },
    {
      path: 'onnx/model_quint8_avx2.onnx',
      size: 23046789,
      sha256: 'b941bf19f1f1283680f449fa6a7336bb5600bdcd5f84d10ddc5cd72218a0fd21',
      optional: true,
    },
  ].map((file) => Object.freeze(file))),
});

const REVISION = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks that a relative path stays inside the model directory: '/'-separated, no empty,
 * '.' or '..' segments, no backslashes, not absolute.
 */
function isSafeRelativePath(value: string): boolean {
  if (value.length === 0 || value.includes('\\') || value.includes('\0')) return false;
  return value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Validates a pin read from elsewhere (e.g. the CLI's `--manifest file.json`) and returns it
 * typed and frozen; throws one error listing every problem.
 */
export function parseModelPin(value: unknown, source = 'pin'): ModelPin {
  const problems: string[] = [];
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value)) throw new Error(`${source}: expected an object with repo, revision and files`);

  const { repo, revision, files } = value;
  if (typeof repo !== 'string' || !REPO.test(repo)) problems.push(`repo must be "owner/name" (got ${JSON.stringify(repo)})`);
  if (typeof revision !== 'string' || !REVISION.test(revision)) {
    problems.push(`revision must be a 40-hex commit id (got ${JSON.stringify(revision)})`);
  }
  const parsed: PinnedFile[] = [];
  if (!Array.isArray(files) || files.length === 0) {
    problems.push('files must be a non-empty array');
  } else {
    const seen = new Set<string>();
    files.forEach((file: unknown, index) => {
      const where = `files[${index}]`;
      if (!isRecord(file)) {
        problems.push(`${where} must be an object`);
        return;
      }
      const { path, size, sha256, optional } = file;
      let ok = true;
      if (typeof path !== 'string' || !isSafeRelativePath(path)) {
        problems.push(`${where}.path must be a relative '/'-separated path inside the directory (got ${JSON.stringify(path)})`);
        ok = false;
      } else if (seen.has(path)) {
        problems.push(`${where}.path ${path} is listed twice`);
        ok = false;
      }
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        problems.push(`${where}.size must be a non-negative integer (got ${JSON.stringify(size)})`);
        ok = false;
      }
      if (typeof sha256 !== 'string' || !SHA256.test(sha256)) {
        problems.push(`${where}.sha256 must be 64 lower-case hex digits (got ${JSON.stringify(sha256)})`);
        ok = false;
      }
      if (optional !== undefined && typeof optional !== 'boolean') {
        problems.push(`${where}.optional must be a boolean when given`);
        ok = false;
      }
      if (ok) {
        seen.add(path as string);
        const entry: PinnedFile = { path: path as string, size: size as number, sha256: sha256 as string };
        if (optional === true) entry.optional = true;
        parsed.push(Object.freeze(entry));
      }
    });
  }
  if (problems.length > 0) throw new Error(`${source} is invalid:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze({ repo: repo as string, revision: revision as string, files: Object.freeze(parsed) });
}
