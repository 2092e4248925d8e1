import { EmbeddedScene, SceneFlexItem, SceneFlexLayout, SceneTimePicker, SceneTimeRange } from '@grafana/scenes';
import { SuggestionsView, type SuggestionsViewState } from './SuggestionsView';

/** Suggestions: the time picker chooses the range discovery mines (at most 7 days). */
export function suggestionsScene(view: Partial<SuggestionsViewState> = {}) {
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: 'now-24h', to: 'now' }),
    controls: [new SceneTimePicker({})],
    body: new SceneFlexLayout({
      direction: 'column',
      children: [new SceneFlexItem({ body: new SuggestionsView(view) })],
    }),
  });
}
