import { RedactionConfig, withGlobal, type RedactionConfigInput } from '../schemas/redaction-config.js';

/**
 * PII redaction for sampled traces. It runs before any reviewer, judge or optimizer sees a
 * trace, so every detector trades a little recall for precision on agent traffic: ids,
 * dates, flight numbers and prices must survive, or the redacted copy stops being useful
 * for finding what the agent got wrong. Checksums (Luhn, IBAN mod-97) and numeric bounds
 * (IPv4 octets) are what keep number-heavy text from turning into a sea of tokens.
 */

export type { BuiltinPiiKind } from '../schemas/redaction-config.js';
import type { BuiltinPiiKind } from '../schemas/redaction-config.js';
import { formatIssues } from '../schemas/format-issues.js';
/** A built-in kind or the name of a custom pattern. */
export type PiiKind = BuiltinPiiKind | (string & {});

/** Replacements made per kind; only kinds that fired appear. */
export type RedactionCounts = Record<string, number>;

export { RedactionConfig, type RedactionConfigInput } from '../schemas/redaction-config.js';

export interface Redactor {
  redactText(text: string): { text: string; counts: RedactionCounts };
  /** Redacts every string inside a JSON value; object keys, numbers and booleans stay. */
  redactValue(value: unknown): { value: unknown; counts: RedactionCounts };
}

/** Sums two count records (neither is modified), keeping only non-zero kinds. */
export function addCounts(a: RedactionCounts, b: RedactionCounts): RedactionCounts {
  const out: RedactionCounts = { ...a };
  for (const [kind, n] of Object.entries(b)) out[kind] = (out[kind] ?? 0) + n;
  for (const kind of Object.keys(out)) if (out[kind] === 0) delete out[kind];
  return out;
}

/** The token a kind's matches are replaced with: `[EMAIL]`, `[ORDER_ID]`. */
export function tokenFor(kind: PiiKind): string {
  return `[${kind.toUpperCase()}]`;
}

/** A detector rewrites text, replacing what it finds by its token and counting. */
type Detector = { kind: PiiKind; apply: (text: string, count: () => void) => string };

/**
 * Validates the config (custom regexes included; the error names the bad entry and the
 * regex error) and builds a redactor. Custom patterns run first, so a team can claim a
 * shape (say, its own account ids) before a built-in detector sees it; built-ins then run
 * from the most to the least specific: email, IBAN, card, IP, phone. Cards come before
 * phones so a card's digits are not counted as a phone, and IBANs before cards because an
 * IBAN's digit groups can pass Luhn.
 */
export function compileRedactor(config: RedactionConfigInput = {}): Redactor {
  const parsed = RedactionConfig.safeParse(config);
  if (!parsed.success) throw new Error(`Invalid redaction config: ${formatIssues(parsed.error)}`);
  const { kinds, custom } = parsed.data;

  const detectors: Detector[] = custom.map((entry) => {
    const re = new RegExp(entry.pattern, withGlobal(entry.flags));
    const token = tokenFor(entry.name);
    return {
      kind: entry.name,
      apply: (text, count) =>
        text.replace(re, (m: string) => {
          // Zero-length matches in context (lookarounds) would only insert tokens.
          if (m.length === 0) return m;
          count();
          return token;
        }),
    };
  });
  if (kinds.email) detectors.push({ kind: 'email', apply: redactEmails });
  if (kinds.iban) detectors.push({ kind: 'iban', apply: redactIbans });
  if (kinds.card) detectors.push({ kind: 'card', apply: redactCards });
  if (kinds.ip) detectors.push({ kind: 'ip', apply: redactIps });
  if (kinds.phone) detectors.push({ kind: 'phone', apply: redactPhones });

  const redactText = (text: string): { text: string; counts: RedactionCounts } => {
    const counts: RedactionCounts = {};
    let out = text;
    for (const d of detectors) {
      out = d.apply(out, () => {
        counts[d.kind] = (counts[d.kind] ?? 0) + 1;
      });
    }
    return { text: out, counts };
  };

  const redactValue = (value: unknown): { value: unknown; counts: RedactionCounts } => {
    let counts: RedactionCounts = {};
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        const r = redactText(v);
        counts = addCounts(counts, r.counts);
        return r.text;
      }
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object' && isPlainObject(v)) {
        // fromEntries defines properties, so a JSON "__proto__" key stays an ordinary key.
        return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
      }
      return v;
    };
    const out = walk(value);
    return { value: out, counts };
  };

  return { redactText, redactValue };
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------
// Email

const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])/g;

function redactEmails(text: string, count: () => void): string {
  return text.replace(EMAIL, () => {
    count();
    return tokenFor('email');
  });
}

// ---------------------------------------------------------------------------------------
// IBAN: country, two check digits, 11-30 alphanumerics, compact or in groups of four.

const IBAN =
  /(?<![\p{L}\p{N}_])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?![\p{L}\p{N}_])/gu;

/** ISO 13616 check: move the first four characters to the end, letters to 10..35, mod 97 = 1. */
export function ibanChecksumValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : ch;
    for (const d of digits) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

function redactIbans(text: string, count: () => void): string {
  return text.replace(IBAN, (match: string) => {
    // The spaced form may have swallowed a following four-letter word ("... 0130 from"):
    // retry without trailing groups before giving up.
    let candidate = match;
    for (;;) {
      if (ibanChecksumValid(candidate)) {
        count();
        return tokenFor('iban') + match.slice(candidate.length);
      }
      const cut = candidate.lastIndexOf(' ');
      if (cut < 0) return match;
      candidate = candidate.slice(0, cut);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Payment cards: 13-19 digits, optionally grouped by single spaces or dashes, Luhn-valid.

/** A run of digit groups joined by single spaces or dashes, not glued to a word or number. */
const DIGIT_RUN = /(?<![\p{L}\p{N}_+]|\d[.,])\d+(?:[ -]\d+)*(?![\p{L}\p{N}_]|[.,]\d)/gu;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function redactCards(text: string, count: () => void): string {
  return text.replace(DIGIT_RUN, (run: string) => {
    if (countDigits(run) < 13) return run;
    // A run can hold a card next to other numbers ("4111 1111 1111 1111 2024-05-20"), so
    // look for the longest Luhn-valid span of whole groups, leftmost first. Spans of
    // several groups need groups of 3+ digits (real layouts: 4-4-4-4, 4-6-5, 4-4-4-4-3),
    // which keeps lists of small numbers from adding up to a "card".
    const groups = [...run.matchAll(/\d+/g)].map((m) => ({ start: m.index, text: m[0] }));
    const parts: string[] = [];
    let cursor = 0;
    let i = 0;
    while (i < groups.length) {
      let best = -1;
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        const g = groups[j] as { start: number; text: string };
        if (j > i && (g.text.length < 3 || (groups[i] as { text: string }).text.length < 3)) break;
        digits += g.text;
        if (digits.length > 19) break;
        if (digits.length >= 13 && luhnValid(digits)) best = j;
      }
      if (best < 0) {
        i += 1;
        continue;
      }
      const first = groups[i] as { start: number; text: string };
      const last = groups[best] as { start: number; text: string };
      parts.push(run.slice(cursor, first.start), tokenFor('card'));
      cursor = last.start + last.text.length;
      count();
      i = best + 1;
    }
    parts.push(run.slice(cursor));
    return parts.join('');
  });
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n += 1;
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// IP addresses

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Four octets, not part of a longer dotted number (versions `1.2.3.4.5`, `999.1.1.1`). */
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?!\\w|\\.\\d)`, 'g');
/**
 * Colon-separated hex groups, optionally ending in a dotted quad; `ipv6Valid` decides.
 * Not glued to a word, colon or dot, so times (`15:00:00`) and MACs fail validation and
 * longer colon chains are not cut into a valid-looking piece.
 */
const IPV6_CANDIDATE =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\w)/g;

export function ipv6Valid(candidate: string): boolean {
  let body = candidate;
  let extraGroups = 0;
  const v4 = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body);
  if (v4) {
    const quad = v4[1] as string;
    if (!new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`).test(quad)) return false;
    body = body.slice(0, body.length - quad.length);
    // "::ffff:1.2.3.4" leaves "::ffff:"; the quad stands for two groups.
    body = body.endsWith('::') ? body : body.slice(0, -1);
    extraGroups = 2;
  }
  const isGroup = (g: string) => /^[0-9A-Fa-f]{1,4}$/.test(g);
  const halves = body.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) {
    const groups = body.split(':');
    return groups.length + extraGroups === 8 && groups.every(isGroup);
  }
  const [left, right] = halves as [string, string];
  const groups = [...(left ? left.split(':') : []), ...(right ? right.split(':') : [])];
  if (!groups.every(isGroup)) return false;
  const total = groups.length + extraGroups;
  // "::" stands for at least one zero group. Fewer than two written groups ("::", "::1",
  // slices like a[::2]) is too little to be an address worth hiding.
  return total <= 7 && total >= 2;
}

function redactIps(text: string, count: () => void): string {
  const v6 = text.replace(IPV6_CANDIDATE, (m: string) => {
    if (!ipv6Valid(m)) return m;
    count();
    return tokenFor('ip');
  });
  return v6.replace(IPV4, () => {
    count();
    return tokenFor('ip');
  });
}

// ---------------------------------------------------------------------------------------
// Phone numbers. Only shapes a person would write: a leading `+` (E.164 or grouped
// international), or North American 3-3-4 with a consistent separator or an area code in
// parentheses. Bare digit strings are left alone: they are far more often ids, amounts or
// confirmation numbers than phones in agent traffic.

/** `+` then 8-15 digits, digits optionally separated by one space, dot or dash, or (area). */
const PHONE_INTL = /(?<![\w+])\+\d(?:[ .-]?\(\d{1,4}\)|[ .-]?\d)+(?!\w)/g;
/** 415-555-2671, 415.555.2671, 415 555 2671, 1-415-555-2671, (415) 555-2671. */
const PHONE_NANP =
  /(?<![\w.,$+-])(?:1[ .-]?)?(?:\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}([ .-])\d{3}\1\d{4})(?![\w]|[.,-]\d)/g;

function redactPhones(text: string, count: () => void): string {
  const intl = text.replace(PHONE_INTL, (m: string) => {
    const n = countDigits(m);
    if (n < 8 || n > 15) return m;
    count();
    return tokenFor('phone');
  });
  return intl.replace(PHONE_NANP, () => {
    count();
    return tokenFor('phone');
  });
}
