import { readFileSync } from 'node:fs';
import { DEFAULT_TAXONOMY_FILE, parseTaxonomy, type FailureTaxonomy } from '../diagnosis/failure-taxonomy.js';

/**
 * Reads and validates the failure taxonomy when a worker starts, so a file with an
 * unknown category stops the start (naming the line) instead of failing a cycle later.
 */
export function loadTaxonomy(file: string = DEFAULT_TAXONOMY_FILE): FailureTaxonomy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(
      `Cannot read the failure taxonomy ${file}: ${(e as Error).message}. Set FLYWHEEL_TAXONOMY_FILE to an existing file or unset it to use the built-in one.`,
    );
  }
  return parseTaxonomy(text, file);
}
