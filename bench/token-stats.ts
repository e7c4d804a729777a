import { loadTokenizer } from '../app/model/tokenizer';
import { TEXT_GENERATORS, type TextKind } from './texts';

export interface TokenStats {
  readonly kind: TextKind;
  readonly sample: number;
  /** Tokens before truncation, [CLS] and [SEP] included. */
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Token counts of the first `sample` texts of each kind, with the model's real tokenizer (no truncation). */
export async function measureTokenStats(modelDir: string, sample = 2000): Promise<TokenStats[]> {
  const tokenizer = await loadTokenizer(modelDir, 1_000_000, 1_000_000);
  return (Object.keys(TEXT_GENERATORS) as TextKind[]).map((kind) => {
    const generate = TEXT_GENERATORS[kind];
    let sum = 0;
    let min = Infinity;
    let max = 0;
    const seen = new Set<string>();
    for (let i = 0; i < sample; i++) {
      const text = generate(i);
      seen.add(text);
      const n = tokenizer.tokenize(text).ids.length;
      sum += n;
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    if (seen.size !== sample) throw new Error(`bench/texts: ${kind} texts repeat (${seen.size} distinct of ${sample})`);
    return { kind, sample, mean: sum / sample, min, max };
  });
}
