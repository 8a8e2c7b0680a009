import { z } from 'zod';

export type BuiltinPiiKind = 'email' | 'phone' | 'card' | 'iban' | 'ip';
export const BUILTIN_KINDS: readonly BuiltinPiiKind[] = ['email', 'phone', 'card', 'iban', 'ip'];

export function withGlobal(flags: string | undefined): string {
  const f = flags ?? '';
  return f.includes('g') ? f : `${f}g`;
}

function customPatternProblem(pattern: string, flags: string | undefined): string | null {
  let re: RegExp;
  try {
    re = new RegExp(pattern, withGlobal(flags));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  re.lastIndex = 0;
  // An empty match would insert a token between every character of every string.
  return re.test('') ? 'matches the empty string' : null;
}

const CustomPattern = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase identifier ([a-z][a-z0-9_]*)'),
  pattern: z.string().min(1),
  flags: z.string().optional(),
});

/** What is masked before a human or a model sees a sampled trace (agent configuration). */
export const RedactionConfig = z
  .object({
    kinds: z
      .object({
        email: z.boolean().default(true),
        phone: z.boolean().default(true),
        card: z.boolean().default(true),
        iban: z.boolean().default(true),
        ip: z.boolean().default(true),
      })
      .prefault({}),
    custom: z.array(CustomPattern).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.custom.forEach((entry, i) => {
      if ((BUILTIN_KINDS as readonly string[]).includes(entry.name) || seen.has(entry.name)) {
        // One name per counter: a clash would merge two kinds' counts and tokens.
        ctx.addIssue({
          code: 'custom',
          path: ['custom', i, 'name'],
          message: `custom pattern #${i} "${entry.name}" reuses a built-in or earlier name`,
        });
      }
      seen.add(entry.name);
      const problem = customPatternProblem(entry.pattern, entry.flags);
      if (problem !== null) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', i, 'pattern'],
          message: `custom pattern #${i} "${entry.name}" (/${entry.pattern}/${entry.flags ?? ''}): ${problem}`,
        });
      }
    });
  });
export type RedactionConfig = z.infer<typeof RedactionConfig>;
export type RedactionConfigInput = z.input<typeof RedactionConfig>;
