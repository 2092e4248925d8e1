import {
  CustomVariable,
  DataSourceVariable,
  QueryVariable,
  SceneFlexLayout,
  SceneQueryRunner,
  SceneRefreshPicker,
  SceneTimePicker,
  TextBoxVariable,
  VizPanel,
} from '@grafana/scenes';
import { SIGNALS_DATASOURCE, ANY } from './signalsDataSource';
import { signalsScene } from './signalsScene';
import { SignalsTable } from './SignalsTable';

describe('signalsScene', () => {
  const scene = signalsScene();

  it('has a time picker, a refresh picker and the filters as variables', () => {
    expect(scene.state.controls?.some((c) => c instanceof SceneTimePicker)).toBe(true);
    expect(scene.state.controls?.some((c) => c instanceof SceneRefreshPicker)).toBe(true);
    const vars = scene.state.$variables!.state.variables;
    expect(vars.map((v) => [v.state.name, v.constructor.name])).toEqual([
      ['severity', CustomVariable.name],
      ['status', CustomVariable.name],
      ['rule', QueryVariable.name],
      ['service', TextBoxVariable.name],
      ['text', TextBoxVariable.name],
      ['traceId', TextBoxVariable.name],
      ['tempo', DataSourceVariable.name],
    ]);
    const severity = vars[0] as CustomVariable;
    expect(severity.state).toMatchObject({
      query: 'info,low,medium,high,critical',
      includeAll: true,
      defaultToAll: true,
      allValue: ANY,
    });
    expect((vars[1] as CustomVariable).state.query).toBe(
      'Open : open,Acknowledged : acknowledged,Resolved : resolved,False positive : false_positive'
    );
    expect((vars[2] as QueryVariable).state.datasource).toEqual(SIGNALS_DATASOURCE);
  });

  it('charts signals by severity and lists them, both from the signals data source', () => {
    const [chart, list] = (scene.state.body as SceneFlexLayout).state.children.map(
      (c) => (c.state as { body: unknown }).body
    );
    expect(chart).toBeInstanceOf(VizPanel);
    const panel = chart as VizPanel;
    expect(panel.state.pluginId).toBe('timeseries');
    const runner = panel.state.$data as SceneQueryRunner;
    expect(runner.state.datasource).toEqual(SIGNALS_DATASOURCE);
    expect(runner.state.queries).toEqual([
      {
        refId: 'bySeverity',
        datasource: SIGNALS_DATASOURCE,
        kind: 'bySeverity',
        filters: {
          severity: '$severity',
          rule: '$rule',
          status: '$status',
          service: '$service',
          text: '$text',
          traceId: '$traceId',
        },
      },
    ]);
    expect(list).toBeInstanceOf(SignalsTable);
    expect(((list as SignalsTable).state.$data as SceneQueryRunner).state.queries[0]).toMatchObject({
      refId: 'signals',
      kind: 'page',
      offset: 0,
      limit: 100,
    });
  });
});
