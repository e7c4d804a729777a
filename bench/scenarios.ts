import type { TextKind } from './texts';

/** One load shape: what kind of text, how many per request, how many connections. */
export interface Scenario {
  readonly id: string;
  readonly kind: TextKind;
  readonly textsPerRequest: number;
  readonly connections: number;
}

const SHAPES = [
  { textsPerRequest: 1, connections: 1 },
  { textsPerRequest: 1, connections: 8 },
  { textsPerRequest: 1, connections: 64 },
  { textsPerRequest: 32, connections: 4 },
] as const;

export const scenarioId = (kind: TextKind, textsPerRequest: number, connections: number): string =>
  `${kind} ${textsPerRequest}×c${connections}`;

/** "short, 1 text, c=64", as the tables show it. */
export const scenarioLabel = (s: Scenario): string =>
  `${s.kind}, ${s.textsPerRequest} text${s.textsPerRequest === 1 ? '' : 's'}, c=${s.connections}`;

/** short and medium texts × {1 text c=1, 1 text c=8, 1 text c=64, 32 texts c=4}. */
export const SCENARIOS: readonly Scenario[] = (['short', 'medium'] as const).flatMap((kind) =>
  SHAPES.map((shape) => ({ id: scenarioId(kind, shape.textsPerRequest, shape.connections), kind, ...shape })),
);

/**
 * The worst case the API accepts: requests of 100 texts over the 256-token limit, one after another.
 * One such request is seconds of inference, so a second one at the same time is refused by admission
 * control (503: its expected wait is over half of MAX_QUEUE_WAIT_MS), by design; the peak memory of
 * what is accepted is what this measures.
 */
export const WORST_CASE: Scenario = { id: scenarioId('long', 100, 1), kind: 'long', textsPerRequest: 100, connections: 1 };
