/**
 * Placeholder for the rule's SLO panel (error budget and burn rates), which the SLO work of issue
 * 15 writes at this path with this signature; it replaces this file at merge. Renders nothing.
 */
import type { JSX } from 'react';

export function SloPanel(_props: { ruleId: string }): JSX.Element | null {
  return null;
}
