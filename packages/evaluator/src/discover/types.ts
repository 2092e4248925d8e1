/**
 * Invariant discovery: the shapes shared by the mining core (this package, pure), the sidecar
 * (CLI `betrace discover`, the `/api/v1/discover` jobs) and the plugin's Suggestions page.
 *
 * A suggestion's `condition` is rule text in BeTrace's language, written like every rule: it
 * FIRES on a trace that violates the invariant. `support` counts the traces in which the
 * suggestion's trigger held (its chances to fail), never all traces, so a rule that holds only
 * because its trigger never occurred is not suggested (no vacuous suggestions).
 */
import type { Trace } from '../model';

export type SuggestionKind =
  /** `when { A } always { B }` — traces with A (optionally where a condition) also have B. */
  | 'implication'
  /** B starts before A within Δ, Δ learned from the observed distribution with a margin. */
  | 'ordering'
  /** B is a child / descendant / ancestor of A. */
  | 'structure'
  /** B carries the same attribute value (e.g. `order_id`) as the bound A. */
  | 'correlation'
  /** Per span name: a required attribute, an enum set, a numeric range, a string shape. */
  | 'attribute'
  /** count(B) per trace (or per bound A) ≤ k — the N+1 query kind. */
  | 'count'
  /** never B when A. */
  | 'absence';

export const SUGGESTION_KINDS: readonly SuggestionKind[] = [
  'implication',
  'ordering',
  'structure',
  'correlation',
  'attribute',
  'count',
  'absence',
];

/** Traces, one pass at a time: discovery calls it once per pass (mining, then validation). */
export type TraceSource = () => Iterable<Trace> | AsyncIterable<Trace>;

export interface DiscoverProgress {
  phase: 'mining' | 'validating' | 'ranking';
  /** Traces read so far in this phase. */
  traces: number;
}

export interface DiscoverOptions {
  /** Fewest training traces the trigger must hold in (default 20). */
  minSupport?: number;
  /** Lowest confidence on the training traces (default: the miner's documented default). */
  minConfidence?: number;
  /** How many suggestions to return, best first (default 50). */
  top?: number;
  /** Fraction of traces held out for validation, chosen by a hash of the trace id and the seed (default 0.3). */
  holdout?: number;
  /** Seed of the train/hold-out split: mining is deterministic for a seed (default 1). */
  seed?: number;
  /** Only these kinds (default all). */
  kinds?: readonly SuggestionKind[];
  /** Rules that exist already: a suggestion equivalent to one of them is not proposed. */
  existingRules?: ReadonlyArray<{ id: string; condition: string }>;
  /** Suggestion ids dismissed before: not proposed again. */
  dismissed?: ReadonlySet<string>;
  /** Example and violating trace ids kept per suggestion (default 5 each). */
  maxExamples?: number;
  /** Called now and then while it runs. */
  onProgress?: (progress: DiscoverProgress) => void;
  /** Checked between traces: when `aborted` is true, discovery stops with a DiscoverAborted error. */
  signal?: { readonly aborted: boolean };
}

export interface Suggestion {
  /** Stable for the same kind and condition: `sg-` and 16 lowercase hex characters. */
  id: string;
  kind: SuggestionKind;
  /** Rule text that `betrace check` accepts as a rule's `condition`; fires on a violation. */
  condition: string;
  /** One English sentence saying what the invariant is ("every payment.charge has a payment.fraud_check"). */
  title: string;
  /** Training traces in which the trigger held. */
  support: number;
  /** Of those, the fraction in which the invariant held (1 − violations / support). */
  confidence: number;
  /** Wilson score lower bound (95 %) of the confidence. */
  confidenceLower: number;
  /** Confidence against the base rate of the consequence in all training traces (1 when not defined). */
  lift: number;
  /** Training traces in which the trigger held and the invariant did not (the rule would fire). */
  violations: number;
  /** Up to maxExamples training traces in which the trigger held and the invariant held. */
  exampleTraceIds: string[];
  /** Up to maxExamples training traces in which it was violated: "almost invariants" are often the incidents. */
  violatingTraceIds: string[];
  /** Measured on the held-out traces. */
  heldOut: { support: number; violations: number; fireRate: number };
  /** Expected value to the user; suggestions are sorted by it, highest first. */
  score: number;
}

export interface DiscoveryResult {
  suggestions: Suggestion[];
  /** Traces and spans read (training and hold-out together), distinct span names seen. */
  traces: number;
  spans: number;
  spanNames: number;
  trainingTraces: number;
  heldOutTraces: number;
  /**
   * Training traces not mined because they were incomplete: no root span, spans dropped at the
   * span cap (droppedSpanCount), or a span whose parent is missing (docs/discovery.md).
   */
  truncatedTraces?: number;
  /** Candidates considered, and why the others were not suggested. */
  candidates: number;
  dropped: {
    lowSupport: number;
    lowConfidence: number;
    redundant: number;
    existing: number;
    dismissed: number;
    heldOut: number;
  };
}

export class DiscoverAborted extends Error {
  constructor() {
    super('discovery was cancelled');
    this.name = 'DiscoverAborted';
  }
}
