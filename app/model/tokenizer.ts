import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_FILES } from './layout';
import { ModelSettingsError, readJson } from './settings';

/** Token ids of one text, already truncated to the model's max_seq_length, special tokens included. */
export interface TokenizedText {
  readonly ids: readonly number[];
}

export interface TextTokenizer {
  readonly maxTokens: number;
  tokenize(text: string): TokenizedText;
}

/**
 * The model's own tokenizer.json through Hugging Face's tokenizers.js, truncated like
 * sentence-transformers does: [CLS] + the first (max - 2) word pieces + [SEP].
 */
export async function loadTokenizer(dir: string, maxTokens: number, maxChars: number): Promise<TextTokenizer> {
  const [json, config] = await Promise.all([
    readJson<Record<string, unknown>>(dir, MODEL_FILES.tokenizer),
    readJson<Record<string, unknown>>(dir, MODEL_FILES.tokenizerConfig),
  ]);
  const tokenizer = new Tokenizer(json, config);

  // The post-processor wraps a text as [CLS] ... [SEP]; truncation keeps that closing token.
  const empty = tokenizer.encode('').ids;
  if (empty.length !== 2) {
    throw new ModelSettingsError(`${MODEL_FILES.tokenizer}: expected a [CLS] x [SEP] template, got ${empty.length} special tokens`);
  }
  const closingId = empty[1] as number;

  return {
    maxTokens,
    tokenize(text: string): TokenizedText {
      const ids = tokenizer.encode(capCharacters(text, maxChars)).ids;
      if (ids.length <= maxTokens) return { ids };
      const truncated = ids.slice(0, maxTokens);
      truncated[maxTokens - 1] = closingId;
      return { ids: truncated };
    },
  };
}

/**
 * Only the first max_seq_length word pieces survive truncation, so tokenising a 1 MB text in full
 * would burn CPU for nothing. Cut at a whitespace near the cap so no word is split mid-way.
 */
export function capCharacters(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.lastIndexOf(' ', maxChars);
  return text.slice(0, cut > maxChars / 2 ? cut : maxChars);
}
