const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Follows the nesting depth of JSON text fed to it in pieces, as it streams in, so a body nested
 * deeper than any request schema allows is refused at its first excess bracket instead of being
 * parsed (a megabyte of `[` builds a million arrays). Brackets inside strings do not count. It does
 * not validate: JSON.parse does that, once the depth is known to be sane.
 */
export class JsonDepthGauge {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(readonly maxDepth: number) {}

  /** Feeds the next piece of text; false as soon as the nesting goes deeper than `maxDepth`. */
  feed(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) this.inString = false;
      } else if (code === QUOTE) {
        this.inString = true;
      } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
        if (++this.depth > this.maxDepth) return false;
      } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
        this.depth--;
      }
    }
    return true;
  }
}
