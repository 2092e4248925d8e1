import { dateTimeFormat } from '@grafana/data';
import type { DiscoveryJob, JobSuggestion } from '../../api/discover';

/** A fraction as a percentage with one decimal: 0.9923 → "99.2 %"; exactly 1 stays "100 %". */
export function percent(fraction: number): string {
  if (fraction >= 1) {
    return '100 %';
  }
  // Never round a near-1 confidence up to "100 %": it is an almost-invariant, not an invariant.
  // (The epsilon keeps 0.995, stored as 0.99499…, at 99.5 %.)
  const tenths = Math.floor(fraction * 1000 + 1e-6) / 10;
  return `${tenths.toFixed(1)} %`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The suggestion's numbers in one line, as the list shows them. */
export function suggestionStats(s: JobSuggestion): string {
  const held =
    s.heldOut.support > 0
      ? `held-out fire rate ${percent(s.heldOut.fireRate)} (${s.heldOut.violations} of ${s.heldOut.support})`
      : 'no held-out traces with the trigger';
  return [
    `support ${plural(s.support, 'trace')}`,
    `confidence ${percent(s.confidence)} (lower bound ${percent(s.confidenceLower)})`,
    `lift ${s.lift.toFixed(2)}`,
    plural(s.violations, 'violation'),
    held,
  ].join(' · ');
}

/** "almost invariant": the invariant failed on some traces it was mined from, often the incidents. */
export const isAlmostInvariant = (s: JobSuggestion) => s.confidence < 1;

/** The job's state and progress in one line. */
export function jobStatus(job: DiscoveryJob): string {
  switch (job.state) {
    case 'running':
      return `Running: ${job.progress.phase}, ${plural(job.progress.traces, 'trace')} read`;
    case 'done':
      return `Done: ${plural(job.suggestionCount, 'suggestion')}`;
    case 'failed':
      return `Failed: ${job.error ?? 'no reason given'}`;
    case 'cancelled':
      return 'Cancelled';
  }
}

/** What the miner read and why the other candidates were not suggested. */
export function jobSummary(job: DiscoveryJob): string | undefined {
  const r = job.result;
  if (!r) {
    return undefined;
  }
  const d = r.dropped;
  const dropped = [
    [d.lowSupport, 'too little support'],
    [d.lowConfidence, 'too low confidence'],
    [d.redundant, 'implied by a stronger one'],
    [d.existing, 'already a rule'],
    [d.dismissed, 'dismissed before'],
    [d.heldOut, 'failed on held-out traces'],
  ] as const;
  return (
    `Read ${plural(r.traces, 'trace')} (${plural(r.spans, 'span')}, ${plural(r.spanNames, 'span name')}): ` +
    `${r.trainingTraces} mined, ${r.heldOutTraces} held out. ${plural(r.candidates, 'candidate')}; not suggested: ` +
    dropped.map(([n, why]) => `${n} ${why}`).join(', ') +
    '.'
  );
}

/** The job's range, in the viewer's time zone. */
export function jobRange(job: DiscoveryJob): string {
  return `${dateTimeFormat(job.from)} – ${dateTimeFormat(job.to)}`;
}

/** A rule id from a suggestion's title: what the editor proposes (the sidecar's rule id pattern). */
export function ruleIdFromTitle(title: string, suggestionId: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug === '' ? suggestionId : slug;
}

/** The description an adopted rule starts with: where it came from, and how strong it was. */
export function provenance(job: DiscoveryJob, s: JobSuggestion): string {
  return (
    `Suggested by BeTrace discovery ${job.id} on ${job.createdAt.slice(0, 10)}: ` +
    `support ${s.support}, confidence ${s.confidence.toFixed(4)} (${s.kind}).`
  );
}

/** A trace id as a link's text: the first 16 hex digits are enough to tell traces apart on screen. */
export const shortTraceId = (id: string) => (id.length > 16 ? `${id.slice(0, 16)}…` : id);
