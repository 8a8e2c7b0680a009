/**
 * Maps with at most `limit` calls in flight, keeping input order in the result.
 *
 * When a call fails, no new one starts, and the promise rejects (with the first error) only
 * once the calls already in flight have settled. An activity attempt that fails this way has
 * then cached every model answer it paid for, so its retry, on any worker, finds them instead
 * of paying again (bench:faults saw agent calls paid twice when the attempt failed while its
 * siblings' answers were still on their way to the cache); nor does it keep paying for items
 * after it has failed.
 */
export async function boundedMap<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const failures: unknown[] = [];
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failures.push(error);
      }
    }
  });
  await Promise.all(workers);
  if (failures.length > 0) throw failures[0];
  return results;
}
