/**
 * Reads the text Python's `repr()` gives for plain data — dicts, lists, tuples, strings,
 * numbers, True/False/None — as JSON values. Python agents (smolagents) write tool calls
 * into their conversation as `str(list_of_dicts)`, which is this syntax, not JSON.
 * Anything else (objects like `<PIL.Image ...>`, sets, expressions) makes the parse fail as
 * a whole: a caller then keeps the text as it is.
 */

class Unparseable extends Error {}

/** Nesting deeper than this is not a tool call; refusing keeps the recursion bounded. */
const MAX_DEPTH = 64;

export function parsePythonLiteral(text: string): unknown {
  const p = new Reader(text);
  try {
    p.space();
    const value = p.value(0);
    p.space();
    return p.done() ? value : undefined;
  } catch (e) {
    if (e instanceof Unparseable) return undefined;
    throw e;
  }
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\u0007',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

class Reader {
  private at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at += 1;
  }

  private peek(): string {
    return this.text[this.at] ?? '';
  }

  private expect(c: string): void {
    if (this.text[this.at] !== c) throw new Unparseable();
    this.at += 1;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Unparseable();
    const c = this.peek();
    if (c === '{') return this.dict(depth);
    if (c === '[') return this.sequence(depth, '[', ']');
    if (c === '(') return this.sequence(depth, '(', ')');
    if (c === "'" || c === '"') return this.string();
    return this.word();
  }

  private dict(depth: number): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    this.space();
    while (this.peek() !== '}') {
      const key = this.value(depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') throw new Unparseable();
      this.space();
      this.expect(':');
      this.space();
      out[String(key)] = this.value(depth + 1);
      this.space();
      if (this.peek() === ',') {
        this.at += 1;
        this.space();
      } else if (this.peek() !== '}') throw new Unparseable();
    }
    this.at += 1;
    return out;
  }

  private sequence(depth: number, open: string, close: string): unknown[] {
    this.expect(open);
    const out: unknown[] = [];
    this.space();
    while (this.peek() !== close) {
      out.push(this.value(depth + 1));
      this.space();
      if (this.peek() === ',') {
        this.at += 1;
        this.space();
      } else if (this.peek() !== close) throw new Unparseable();
    }
    this.at += 1;
    return out;
  }

  /** Single- or double-quoted, with the escapes repr() emits. */
  private string(): string {
    const quote = this.peek();
    this.at += 1;
    let out = '';
    for (;;) {
      if (this.done()) throw new Unparseable();
      const c = this.text[this.at]!;
      this.at += 1;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.at] ?? '';
      this.at += 1;
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.text.slice(this.at, this.at + width);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) throw new Unparseable();
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) throw new Unparseable();
        out += String.fromCodePoint(code);
        this.at += width;
      } else out += `\\${e}`;
    }
  }

  private word(): unknown {
    const m = /^(?:True|False|None|-?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+))/.exec(
      this.text.slice(this.at, this.at + 64),
    );
    if (!m) throw new Unparseable();
    this.at += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0]);
  }
}
