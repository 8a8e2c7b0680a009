import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of every Flywheel client and worker that encrypts payloads: a
 * failure's message and stack trace (an activity error can quote trace text) move into its
 * `encoded_attributes` payload, which the payload codec encrypts like any other; the history
 * keeps only "Encoded failure". Decoding needs no option: any DefaultFailureConverter reads
 * encoded attributes back, and histories written before (plain failures) read as they are.
 *
 * Loaded by path (workers/data-converter.ts): the worker `require`s it and the workflow
 * bundle includes it, so this module must stay importable inside the workflow sandbox.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
