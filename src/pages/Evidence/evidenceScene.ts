import {
  CustomVariable,
  EmbeddedScene,
  SceneControlsSpacer,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  SceneVariableSet,
  TextBoxVariable,
  VariableValueSelectors,
} from '@grafana/scenes';
import { ANY } from '../Signals/signalsDataSource';
import { tempoVariable } from '../Signals/tempoVariable';
import { EvidenceView } from './EvidenceView';

/** The frameworks BeTrace's compliance mappings name (telemetry-contract.md). */
export const FRAMEWORKS = ['soc2', 'hipaa', 'gdpr', 'pci-dss', 'iso27001'] as const;

export function evidenceScene() {
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: 'now-24h', to: 'now' }),
    $variables: new SceneVariableSet({
      variables: [
        new CustomVariable({
          name: 'framework',
          label: 'Framework',
          query: FRAMEWORKS.join(','),
          includeAll: true,
          defaultToAll: true,
          allValue: ANY,
        }),
        new TextBoxVariable({ name: 'control', label: 'Control', value: '' }),
        tempoVariable(),
      ],
    }),
    controls: [
      new VariableValueSelectors({}),
      new SceneControlsSpacer(),
      new SceneTimePicker({}),
      new SceneRefreshPicker({ intervals: ['1m', '5m', '15m', '1h'] }),
    ],
    body: new EvidenceView(),
  });
}
