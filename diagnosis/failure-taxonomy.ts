import { z } from 'zod';
import { UserError } from '../schemas/user-error.js';
import { formatIssues } from '../schemas/format-issues.js';

/**
 * The versioned failure taxonomy the diagnosis classifies clusters into. The seven
 * categories are fixed (reports, dashboards and the gate refer to them); subtypes live in
 * a file teams can extend, one JSON object per line so an error can name its line.
 */
export const TAXONOMY_CATEGORIES = [
  'infra',
  'context',
  'tool_selection',
  'retrieval',
  'memory',
  'planning',
  'policy_escalation',
] as const;
export const TaxonomyCategory = z.enum(TAXONOMY_CATEGORIES);
export type TaxonomyCategory = z.infer<typeof TaxonomyCategory>;

/** Intervention rungs from cheapest to costliest; a diagnosis names the cheapest that fixes. */
export const INTERVENTION_RUNGS = ['prompt', 'tool', 'context', 'fine_tune', 'rl'] as const;
export const InterventionRung = z.enum(INTERVENTION_RUNGS);
export type InterventionRung = z.infer<typeof InterventionRung>;

const Header = z.strictObject({
  taxonomy: z.string().min(1),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a semantic version such as 1.0.0'),
});

const Entry = z.strictObject({
  category: z.string(),
  subtype: z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case, e.g. missing_precondition'),
  description: z.string().min(1),
  rung: InterventionRung,
});

export interface TaxonomySubtype {
  category: TaxonomyCategory;
  subtype: string;
  description: string;
  rung: InterventionRung;
}

export interface FailureTaxonomy {
  name: string;
  version: string;
  subtypes: TaxonomySubtype[];
}

/** A taxonomy file that cannot be used; the message names the file and line. */
export class TaxonomyError extends UserError {
  override name = 'TaxonomyError';
}

/**
 * Parses a taxonomy file. Any problem — bad JSON, an unknown category, a duplicate
 * subtype — rejects the whole file with the source and line, because a worker that
 * classified against half a taxonomy would silently mislabel clusters.
 */
export function parseTaxonomy(text: string, source: string): FailureTaxonomy {
  let header: z.infer<typeof Header> | undefined;
  const subtypes: TaxonomySubtype[] = [];
  const seen = new Map<string, number>();
  const fail = (line: number, message: string): never => {
    throw new TaxonomyError(`${source} line ${line}: ${message}`);
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      fail(line, `not valid JSON (${(e as Error).message}); each line holds one JSON object`);
    }
    if (!header) {
      const h = Header.safeParse(json);
      if (!h.success) {
        fail(
          line,
          `the first entry must be the header {"taxonomy": NAME, "version": "X.Y.Z"}: ${formatIssues(h.error, { root: '(entry)' })}`,
        );
      }
      header = h.data;
      return;
    }
    const e = Entry.safeParse(json);
    if (!e.success) fail(line, formatIssues(e.error, { root: '(entry)' }));
    const entry = e.data!;
    const category = TaxonomyCategory.safeParse(entry.category);
    if (!category.success) {
      fail(line, `unknown category "${entry.category}"; use one of ${TAXONOMY_CATEGORIES.join(', ')}`);
    }
    const earlier = seen.get(entry.subtype);
    if (earlier !== undefined) fail(line, `subtype "${entry.subtype}" is already defined on line ${earlier}`);
    seen.set(entry.subtype, line);
    subtypes.push({ ...entry, category: category.data! });
  });
  if (!header) throw new TaxonomyError(`${source}: empty taxonomy; it needs a header line and subtypes`);
  if (subtypes.length === 0) throw new TaxonomyError(`${source}: the taxonomy defines no subtypes`);
  return { name: header.taxonomy, version: header.version, subtypes };
}

/** The subtype a diagnosis named, if it belongs to the category it named. */
export function findSubtype(
  taxonomy: FailureTaxonomy,
  category: string,
  subtype: string,
): TaxonomySubtype | undefined {
  return taxonomy.subtypes.find((s) => s.category === category && s.subtype === subtype);
}

/** The taxonomy that ships with Flywheel. */
export const DEFAULT_TAXONOMY_FILE = new URL('../taxonomy/failure-taxonomy.jsonl', import.meta.url).pathname;
