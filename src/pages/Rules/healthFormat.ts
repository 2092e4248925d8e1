/** How rule health numbers read in the Rules list and the Health tab (docs/rule-health.md). */

/** A ratio in [0, 1] as a percentage with one decimal; an em dash when unknown. */
export function formatRatio(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '—' : `${(Math.round(ratio * 1000) / 10).toFixed(1)} %`;
}

/** Violations per hour: whole numbers from 10, two significant digits below, `0/h` for none. */
export function formatFireRate(perHour: number | null | undefined): string {
  if (perHour === null || perHour === undefined) {
    return '—';
  }
  if (perHour === 0) {
    return '0/h';
  }
  return perHour >= 10 ? `${Math.round(perHour)}/h` : `${Number(perHour.toPrecision(2))}/h`;
}

/** Mean evaluation time per trace: µs below a millisecond, ms above; with the share of the tenant's rule time. */
export function formatCost(micros: number | null | undefined, share?: number | null): string {
  if (micros === null || micros === undefined) {
    return '—';
  }
  const time = micros >= 1000 ? `${Number((micros / 1000).toPrecision(3))} ms` : `${Number(micros.toPrecision(3))} µs`;
  return share === null || share === undefined ? time : `${time} (${Math.round(share * 100)} %)`;
}
