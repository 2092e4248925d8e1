/**
 * Messages between the evaluation pool (main thread) and its workers. A worker holds compiled
 * rule sets by id: the pool sends a set's definitions before the first job that needs it and
 * tells the worker to forget sets it no longer tracks, so a job never carries rule text.
 */
import type { RuleDefinition, Trace, Violation } from '@betrace/evaluator';
import type { SkippedRule } from './run';

export interface RuleSetMessage {
  type: 'rules';
  setId: number;
  definitions: RuleDefinition[];
}

export interface ForgetMessage {
  type: 'forget';
  setId: number;
}

export interface EvaluateMessage {
  type: 'evaluate';
  jobId: number;
  setId: number;
  /** The set's rules to run, in order. */
  ruleIds: string[];
  trace: Trace;
  budgetMs: number;
}

export type ToWorker = RuleSetMessage | ForgetMessage | EvaluateMessage;

export interface ResultMessage {
  type: 'result';
  jobId: number;
  violations: Violation[];
  evaluated: string[];
  skipped: SkippedRule[];
  durationMs: number;
}

/** Sent once the worker's code is loaded: a job's hard limit runs from then, not from the (slower) thread start. */
export interface ReadyMessage {
  type: 'ready';
}

export type FromWorker = ResultMessage | ReadyMessage;

/**
 * A worker's progress, in an Int32Array over a SharedArrayBuffer the pool reads without waiting
 * for the worker: the job it is on and 1 + the index of the rule it is running (0: none). When a
 * worker is stuck past the hard limit, this names the rule to blame.
 */
export const PROGRESS_JOB = 0;
export const PROGRESS_RULE = 1;
export const PROGRESS_SLOTS = 2;

export interface EvalWorkerData {
  progress: SharedArrayBuffer;
}
