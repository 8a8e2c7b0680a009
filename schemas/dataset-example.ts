import { z } from 'zod';
import { AgentAction, ChatMessage } from './trace.js';

export const DatasetSplit = z.enum(['train', 'eval', 'holdout']);
export type DatasetSplit = z.infer<typeof DatasetSplit>;

/** Where an example came from; every field is optional because imports may know none. */
export const ExampleLineage = z.object({
  traceId: z.string().min(1).nullish(),
  clusterId: z.string().min(1).nullish(),
  clusterStableId: z.string().min(1).nullish(),
  annotationId: z.string().min(1).nullish(),
  cycleId: z.string().min(1).nullish(),
  originVersionId: z.string().min(1).nullish(),
  source: z.string().min(1).nullish(),
});
export type ExampleLineage = z.infer<typeof ExampleLineage>;

/** What step replay needs: the recorded conversation up to the agent's step. */
export const ExampleInput = z
  .object({ messages: z.array(ChatMessage).min(1, 'input.messages needs at least one message') })
  .loose();
export type ExampleInput = z.infer<typeof ExampleInput>;

/**
 * One line of a dataset JSONL file. Export writes every field; import needs only `input`
 * and `expected` (a plain string input becomes one user message). `key` is the example's
 * identity across versions; without it the source trace, else a hash of the content.
 */
export const DatasetExampleLine = z.object({
  key: z.string().min(1).optional(),
  id: z.string().min(1).optional(),
  input: z.union([
    z
      .string()
      .min(1)
      .transform((content) => ({ messages: [{ role: 'user' as const, content }] })),
    ExampleInput,
  ]),
  expected: AgentAction,
  split: DatasetSplit.optional(),
  slices: z.array(z.string().min(1)).optional(),
  /** Accepted as slices too, as LangSmith / Braintrust exports name them. */
  tags: z.array(z.string().min(1)).optional(),
  lineage: ExampleLineage.optional(),
  traceId: z.string().min(1).optional(),
});
export type DatasetExampleLine = z.infer<typeof DatasetExampleLine>;

/** The export form of one example (a superset of what import reads back). */
export interface ExportedExample {
  id: string;
  key: string;
  datasetVersionId: string;
  split: DatasetSplit;
  slices: string[];
  input: unknown;
  expected: unknown;
  contentHash: string;
  createdAt: string;
  createdBy: string;
  gatingExcluded: string | null;
  lineage: {
    traceId: string | null;
    clusterId: string | null;
    clusterStableId: string | null;
    annotationId: string | null;
    cycleId: string | null;
    originVersionId: string | null;
    source: string;
  };
}
