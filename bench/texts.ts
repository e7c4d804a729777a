/**
 * Deterministic benchmark texts. Text i of a kind is a pure function of i and distinct from every
 * other i below the kind's capacity (a mixed-radix number over word lists, visited in a scrambled
 * order), so a run that draws i = 0, 1, 2, ... never repeats a text: no cache can help.
 */

export type TextKind = 'short' | 'medium' | 'long';

const ADJECTIVES = [
  'Sunset', 'Midnight', 'Spring', 'Autumn', 'Family', 'Community', 'Annual', 'Weekly', 'Free',
  'Outdoor', 'Acoustic', 'Late', 'Summer', 'Winter', 'Harvest', 'Neighborhood', 'Downtown',
  'Open', 'Grand', 'Little',
];
const GENRES = [
  'Jazz', 'Salsa', 'Poetry', 'Pottery', 'Yoga', 'Chess', 'Comedy', 'Folk', 'Blues', 'Tango',
  'Film', 'Robotics', 'Knitting', 'Gospel', 'Trivia', 'Photography', 'Baking', 'Gardening',
  'Watercolor', 'Karaoke', 'Swing', 'Bluegrass', 'Origami', 'Improv', 'Astronomy',
];
const EVENTS = [
  'Night', 'Festival', 'Workshop', 'Meetup', 'Concert', 'Class', 'Fair', 'Market', 'Showcase',
  'Tournament', 'Jam', 'Social', 'Tour', 'Party', 'Screening', 'Brunch',
];
const VENUES = [
  'Riverside Park', 'the Public Library', 'City Hall', 'Union Square', 'the Old Mill',
  'Harbor Pier', 'the Art Museum', 'Maple Street Hall', 'the Botanical Garden', 'Elm Theater',
  'the Community Center', 'Lakeside Pavilion', 'the Brewery', 'Oak Grove', 'the Town Green',
  'Central Station', 'the Rooftop Bar', 'Willow Barn', 'the Science Center', 'Pine Hill Church',
  'the Waterfront', 'Cedar Gallery', 'the Main Stage', 'Fox Hollow Farm',
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const TIMES = ['9am', '10am', '11am', 'noon', '1pm', '2pm', '4pm', '5pm', '6pm', '7pm', '8pm', '9pm'];

const HOSTS = [
  'local volunteers', 'the parks department', 'a neighborhood collective', 'two retired teachers',
  'the downtown business association', 'students from the state university', 'the historical society',
  'a family-run bakery', 'the regional arts council', 'our friends at the food co-op',
];
const ACTIVITIES = [
  'live music and dancing', 'hands-on lessons for beginners', 'food trucks and lawn games',
  'a short talk followed by questions', 'demonstrations by local experts', 'games, prizes and snacks',
  'an open mic for anyone brave enough', 'guided practice in small groups',
];
const NOTES = [
  'Bring a water bottle and comfortable shoes.', 'Seating is limited, so please arrive early.',
  'Parking is available behind the building.', 'The venue is wheelchair accessible.',
  'Children under twelve must be accompanied by an adult.', 'Dogs on a leash are welcome.',
  'Light refreshments will be served.', 'In case of rain the event moves indoors.',
];

const CAUSES = [
  'the youth music program', 'the public library fund', 'local food banks', 'the animal shelter',
  'the new playground', 'scholarships for art students',
];

/** Picks digits of idx in a mixed radix over the given list sizes. */
function digits(idx: number, radices: readonly number[]): number[] {
  const out: number[] = [];
  let rest = idx;
  for (const r of radices) {
    out.push(rest % r);
    rest = Math.floor(rest / r);
  }
  return out;
}

const TITLE_RADICES = [ADJECTIVES.length, GENRES.length, EVENTS.length, VENUES.length, DAYS.length, TIMES.length];
/** How many distinct titles (and so distinct texts of every kind) exist. */
export const TEXT_CAPACITY = TITLE_RADICES.reduce((a, b) => a * b, 1);
/** A multiplier coprime to the capacity, so i → (i × STRIDE) mod capacity is a permutation. */
const STRIDE = 2_654_435_761 % TEXT_CAPACITY;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
if (gcd(STRIDE, TEXT_CAPACITY) !== 1) throw new Error('bench/texts: STRIDE must be coprime to TEXT_CAPACITY');

function scramble(i: number): number {
  if (!Number.isSafeInteger(i) || i < 0 || i >= TEXT_CAPACITY) throw new RangeError(`text index ${i} out of range`);
  return Number((BigInt(i) * BigInt(STRIDE)) % BigInt(TEXT_CAPACITY));
}

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;

/** An event title, about 12 tokens with [CLS] and [SEP]: "Sunset Jazz Concert at Riverside Park Sat 7pm". */
export function shortText(i: number): string {
  const [a, g, e, v, d, t] = digits(scramble(i), TITLE_RADICES) as [number, number, number, number, number, number];
  return `${pick(ADJECTIVES, a)} ${pick(GENRES, g)} ${pick(EVENTS, e)} at ${pick(VENUES, v)} ${pick(DAYS, d)} ${pick(TIMES, t)}`;
}

/** A title plus a short description, about 64 tokens. */
export function mediumText(i: number): string {
  const s = scramble(i);
  const price = 5 + (s % 36);
  return (
    `${shortText(i)}. Join ${pick(HOSTS, s >> 3)} for ${pick(ACTIVITIES, s >> 7)}. ` +
    `Tickets are $${price} at the door, and members get in free. ${pick(NOTES, s >> 11)} ` +
    `All proceeds support ${pick(CAUSES, s >> 14)}, and the schedule may change with the weather.`
  );
}

/** Five descriptions in a row, well over the 256-token limit (the service truncates it). */
export function longText(i: number): string {
  const parts: string[] = [];
  for (let k = 0; k < 5; k++) parts.push(mediumText((i * 5 + k) % TEXT_CAPACITY));
  return parts.join(' ');
}

export const TEXT_GENERATORS: Readonly<Record<TextKind, (i: number) => string>> = {
  short: shortText,
  medium: mediumText,
  long: longText,
};

/**
 * An endless, never-repeating supply of one kind of text. Each stream starts at its own offset so
 * two streams (e.g. two servers, or warm-up and measured run) never share a text.
 */
export class TextStream {
  private next: number;
  constructor(
    readonly kind: TextKind,
    start: number,
  ) {
    this.next = start;
  }

  take(count: number): string[] {
    const generate = TEXT_GENERATORS[this.kind];
    const out: string[] = [];
    for (let k = 0; k < count; k++) {
      out.push(generate(this.next % TEXT_CAPACITY));
      this.next++;
    }
    return out;
  }
}
