import { z } from 'zod';

/** How a reviewer answers a score config: a number in a range, one of named categories, or yes/no. */
export const ScoreDataType = z.enum(['NUMERIC', 'CATEGORICAL', 'BOOLEAN']);
export type ScoreDataType = z.infer<typeof ScoreDataType>;

/** Names are typed on the command line as `--score name=value`, so they stay simple. */
export const ScoreConfigName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
    'a score config name starts with a letter and uses letters, digits, dot, dash and underscore (at most 64)',
  );

export const ScoreCategory = z.object({
  label: z.string().trim().min(1, 'a category needs a label'),
  value: z.number().finite(),
});
export type ScoreCategory = z.infer<typeof ScoreCategory>;

/**
 * A score config in Langfuse's shape: what reviewers fill per item besides the verdict.
 * NUMERIC may bound its range, CATEGORICAL lists its categories, BOOLEAN needs neither.
 */
export const ScoreConfigInput = z
  .object({
    /** The agent whose queues list it; null (or absent) makes it global. */
    agent: z.string().min(1).nullable().default(null),
    name: ScoreConfigName,
    dataType: ScoreDataType,
    minValue: z.number().finite().nullable().optional(),
    maxValue: z.number().finite().nullable().optional(),
    categories: z.array(ScoreCategory).nullable().optional(),
    description: z.string().max(2000).nullable().optional(),
    isArchived: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const hasRange = c.minValue != null || c.maxValue != null;
    if (c.dataType === 'NUMERIC') {
      if (c.minValue != null && c.maxValue != null && !(c.minValue < c.maxValue))
        ctx.addIssue({
          code: 'custom',
          path: ['minValue'],
          message: `minValue (${c.minValue}) must be below maxValue (${c.maxValue})`,
        });
    } else if (hasRange) {
      ctx.addIssue({
        code: 'custom',
        path: ['minValue'],
        message: `only NUMERIC configs have minValue/maxValue; drop them from this ${c.dataType} config`,
      });
    }
    if (c.dataType === 'CATEGORICAL') {
      const categories = c.categories ?? [];
      if (categories.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['categories'],
          message: 'a CATEGORICAL config needs at least one category { label, value }',
        });
      const duplicate = (key: 'label' | 'value') =>
        categories.map((x) => x[key]).filter((v, i, all) => all.indexOf(v) !== i);
      for (const key of ['label', 'value'] as const) {
        const dups = [...new Set(duplicate(key))];
        if (dups.length > 0)
          ctx.addIssue({
            code: 'custom',
            path: ['categories'],
            message: `category ${key}s must be unique; repeated: ${dups.join(', ')}`,
          });
      }
    } else if (c.categories != null) {
      ctx.addIssue({
        code: 'custom',
        path: ['categories'],
        message: `only CATEGORICAL configs have categories; drop them from this ${c.dataType} config`,
      });
    }
  });
export type ScoreConfigInput = z.input<typeof ScoreConfigInput>;

/** A stored score config as the API returns it. */
export interface ScoreConfig {
  id: string;
  agent: string | null;
  name: string;
  dataType: ScoreDataType;
  minValue: number | null;
  maxValue: number | null;
  categories: ScoreCategory[] | null;
  description: string | null;
  isArchived: boolean;
}

/** What a reviewer may send for one score: a number, a category label or a boolean. */
export const ScoreValue = z.union([z.number().finite(), z.string(), z.boolean()]);
export type ScoreValue = z.infer<typeof ScoreValue>;
