import { z } from 'zod';

/**
 * A judge rubric as an operator writes it (`flywheel rubric set`): the shape of
 * evaluation/judge-rubrics.ts's JudgeRubric. The version is assigned when it is saved, so a
 * `version` in the file (as `rubric show` prints it) is accepted and ignored; a
 * `dimension`, when present, must be the one it is saved for.
 */
export const RubricDefinition = z
  .strictObject({
    dimension: z.string().min(1).optional(),
    version: z.number().int().positive().optional(),
    scale: z.enum(['binary', 'likert5'], { message: 'scale must be "binary" or "likert5"' }),
    title: z.string().trim().min(1, 'title must not be empty'),
    question: z.string().trim().min(1, 'question must not be empty'),
    criteria: z
      .array(z.string().trim().min(1, 'a criterion must not be empty'))
      .min(1, 'give at least one criterion'),
    applicability: z.string().trim().min(1).optional(),
    passLevel: z.number().int().min(2).max(5).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.passLevel !== undefined && r.scale !== 'likert5')
      ctx.addIssue({
        code: 'custom',
        path: ['passLevel'],
        message: 'passLevel applies to likert5 rubrics only',
      });
    if (r.applicability !== undefined && r.scale !== 'binary')
      ctx.addIssue({
        code: 'custom',
        path: ['applicability'],
        message: 'applicability applies to binary rubrics only (a 1–5 score always applies)',
      });
  });
export type RubricDefinition = z.infer<typeof RubricDefinition>;

/** A rubric as stored in rubric_versions: dimension and version always present. */
export const StoredRubric = z.object({
  dimension: z.string().min(1),
  version: z.number().int().positive(),
  scale: z.enum(['binary', 'likert5']),
  title: z.string(),
  question: z.string(),
  criteria: z.array(z.string()),
  applicability: z.string().optional(),
  passLevel: z.number().int().optional(),
});
export type StoredRubric = z.infer<typeof StoredRubric>;
