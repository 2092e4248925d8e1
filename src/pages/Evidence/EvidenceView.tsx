import React from 'react';
import {
  PanelBuilders,
  sceneGraph,
  SceneFlexItem,
  SceneFlexLayout,
  SceneObjectBase,
  SceneQueryRunner,
  VariableDependencyConfig,
  type SceneComponentProps,
  type SceneObjectState,
} from '@grafana/scenes';
import type { EvidenceSelection } from '../../builders/traceql';
import { ANY } from '../Signals/signalsDataSource';
import { applyConfiguredTempo } from '../Signals/tempoVariable';
import { EvidenceControls } from './EvidenceControls';
import { evidenceOutcomesTempoQuery } from './queries';

export const EVIDENCE_VARIABLES = ['framework', 'control'] as const;

export interface EvidenceViewState extends SceneObjectState {
  body?: SceneFlexLayout;
}

/**
 * The evidence of the selected framework and control. The TraceQL is built (and quoted) from the
 * variables' values in code rather than interpolated into the query text, so a control such as
 * `164.312(b)` or one holding a quote stays a string literal: on a change, the panels are rebuilt.
 */
export class EvidenceView extends SceneObjectBase<EvidenceViewState> {
  protected _variableDependency = new VariableDependencyConfig(this, {
    variableNames: [...EVIDENCE_VARIABLES],
    onReferencedVariableValueChanged: () => this.build(),
  });

  constructor(state: Partial<EvidenceViewState> = {}) {
    super(state);
    this.addActivationHandler(() => {
      if (!this.state.body) {
        // Query Tempo only once the app's configured datasource is selected, never a stand-in.
        applyConfiguredTempo(this).finally(() => this.isActive && !this.state.body && this.build());
      }
    });
  }

  selection(): EvidenceSelection {
    const value = (name: string) => {
      const v = sceneGraph.interpolate(this, `\${${name}}`).trim();
      return v === '' || v === ANY || v.startsWith('$') ? undefined : v;
    };
    return { framework: value('framework'), control: value('control') };
  }

  build(): void {
    const selection = this.selection();
    const outcomes = evidenceOutcomesTempoQuery(selection);
    this.setState({
      body: new SceneFlexLayout({
        direction: 'column',
        children: [
          new SceneFlexItem({
            height: 240,
            body: PanelBuilders.timeseries()
              .setTitle('Evidence records by control and outcome')
              .setDescription('compliance.evidence spans in Tempo, counted per control and outcome (TraceQL metrics)')
              .setData(new SceneQueryRunner({ datasource: outcomes.datasource, queries: [outcomes] }))
              .setCustomFieldConfig('drawStyle', 'bars' as never)
              .setCustomFieldConfig('fillOpacity', 70)
              .setCustomFieldConfig('stacking', { mode: 'normal' as never, group: 'A' })
              .setDecimals(0)
              .setOverrides((b) => {
                b.matchFieldsWithNameByRegex('.*"fail".*').overrideColor({ mode: 'fixed', fixedColor: 'red' });
                b.matchFieldsWithNameByRegex('.*"pass".*').overrideColor({ mode: 'fixed', fixedColor: 'green' });
              })
              .build(),
          }),
          new SceneFlexItem({ body: new EvidenceControls({ selection }) }),
        ],
      }),
    });
  }

  static Component = ({ model }: SceneComponentProps<EvidenceView>) => {
    const { body } = model.useState();
    return body ? <body.Component model={body} /> : null;
  };
}
