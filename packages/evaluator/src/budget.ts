/**
 * The evaluation budget: a deterministic count of work steps per rule per trace, plus an optional
 * wall-clock deadline for the whole trace. The hot loops of compiled rules spend steps; running out
 * throws BudgetExceeded, which unwinds the rule's closures in one go and is turned into a
 * "not evaluated" report by evaluate.ts — never a hang, never a silent pass.
 */
import { CLOCK_CHECK_INTERVAL_STEPS, MAX_EVALUATION_STEPS } from './limits';

/** Why a rule was not (fully) evaluated on a trace. */
export type RuleSkipReason = 'step-budget' | 'time-budget';

/** Thrown by Budget.spend when a budget runs out; caught by evaluateTrace and explainRule. */
export class BudgetExceeded extends Error {
  constructor(readonly reason: RuleSkipReason) {
    super(reason === 'step-budget' ? 'the rule used up its evaluation steps on this trace' : "the trace's evaluation time budget ran out");
    this.name = 'BudgetExceeded';
  }
}

export interface BudgetOptions {
  /** Steps one rule may take on one trace (default MAX_EVALUATION_STEPS). */
  maxStepsPerRule?: number;
  /** Wall-clock milliseconds for all rules on the trace, counted from the start of evaluation; none by default. */
  timeBudgetMs?: number;
  /** The clock, in milliseconds (default Date.now); injectable so tests need no real time. */
  now?: () => number;
}

export class Budget {
  /** Steps the current rule has taken. */
  used = 0;
  private readonly maxSteps: number;
  private readonly deadline: number | undefined;
  private readonly now: () => number;
  /** The step count at which spend() next looks at the limits: the step limit, or the next clock read. */
  private checkAt = 0;

  constructor(options: BudgetOptions = {}) {
    this.maxSteps = options.maxStepsPerRule ?? MAX_EVALUATION_STEPS;
    if (!(this.maxSteps >= 0)) {
      throw new RangeError(`maxStepsPerRule must be a number >= 0, got ${String(options.maxStepsPerRule)}`);
    }
    this.now = options.now ?? Date.now;
    if (options.timeBudgetMs !== undefined) {
      if (!(options.timeBudgetMs >= 0)) {
        throw new RangeError(`timeBudgetMs must be a number >= 0, got ${String(options.timeBudgetMs)}`);
      }
      this.deadline = this.now() + options.timeBudgetMs;
    }
    this.checkAt = this.nextCheck();
  }

  /** Starts the next rule: a fresh step count; throws BudgetExceeded('time-budget') if the deadline has passed. */
  startRule(): void {
    this.used = 0;
    this.checkTime();
    this.checkAt = this.nextCheck();
  }

  /** Spends `n` steps (n ≥ 0); throws BudgetExceeded once the rule has taken more than its steps or the deadline passed. */
  spend(n: number): void {
    this.used += n;
    if (this.used > this.checkAt) {
      this.check();
    }
  }

  private check(): void {
    if (this.used > this.maxSteps) {
      throw new BudgetExceeded('step-budget');
    }
    this.checkTime();
    this.checkAt = this.nextCheck();
  }

  private checkTime(): void {
    if (this.deadline !== undefined && this.now() > this.deadline) {
      throw new BudgetExceeded('time-budget');
    }
  }

  private nextCheck(): number {
    return this.deadline === undefined ? this.maxSteps : Math.min(this.maxSteps, this.used + CLOCK_CHECK_INTERVAL_STEPS);
  }
}
