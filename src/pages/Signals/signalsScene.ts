import { testIds } from '../../components/testIds';
import { placeholderScene } from '../placeholderScene';

export const SIGNALS_PLACEHOLDER = 'Signals will be listed here: each violation of a rule, with its severity, its lifecycle (open, acknowledged, resolved, false positive) and a link to its trace in Explore.';

export function signalsScene() {
  return placeholderScene('Signals are coming', SIGNALS_PLACEHOLDER, testIds.signals.container);
}
