/**
 * The judge's share of online evaluation's daily cost cap, spent trace by trace while
 * several traces are judged at once. A trace may start only if what is spent, what the
 * traces in flight are expected to spend and its own expected cost all fit under the cap;
 * the expectation is the dearest trace judged so far today (earlier runs included). Until
 * one has finished nothing is known, so the first trace is judged alone (`inFlight` must be
 * 0 for it to start). A trace
 * that costs more than the dearest before it can overrun the cap by the difference, never
 * by the cost of a whole concurrent batch.
 *
 * Pure: the caller reports each trace's actual cost.
 */
export class JudgeBudget {
  private spent: number;
  private inFlight = 0;
  private dearest = 0;
  private finished = 0;

  /** dearestBeforeUsd: the dearest trace judged earlier today, when there was one. */
  constructor(
    private readonly capUsd: number,
    spentBeforeUsd: number,
    dearestBeforeUsd = 0,
  ) {
    this.spent = spentBeforeUsd;
    this.dearest = dearestBeforeUsd;
  }

  private get known(): boolean {
    return this.finished > 0 || this.dearest > 0;
  }

  /** Whether a trace's judge calls may start now; when true, the caller must `finish` it. */
  tryStart(): boolean {
    if (!this.known && this.inFlight > 0) return false;
    const expected = this.dearest * (this.inFlight + 1);
    if (this.spent + expected > this.capUsd) return false;
    if (!this.known && this.spent >= this.capUsd) return false;
    this.inFlight++;
    return true;
  }

  finish(costUsd: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.finished++;
    this.spent += costUsd;
    this.dearest = Math.max(this.dearest, costUsd);
  }

  /** Spent today, this run included. */
  get spentUsd(): number {
    return this.spent;
  }

  /** Whether no further trace could start even with nothing in flight. */
  get exhausted(): boolean {
    return this.spent >= this.capUsd || (this.known && this.spent + this.dearest > this.capUsd);
  }
}

/** The start of the UTC day `at` falls in: the cap's day. */
export const utcDayStart = (at: Date): Date =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
