/**
 * Core panel plugins the plugin's scenes use (PanelBuilders.timeseries()). Grafana ships them in
 * its own code, not on npm, so the host builds the same visualisation from @grafana/ui's
 * TimeSeries, with Grafana's "No data" and legend behaviour.
 */
import React from 'react';
import { PanelPlugin, type PanelProps, type PanelPluginMeta, PluginType } from '@grafana/data';
import { TimeSeries, type VizLegendOptions } from '@grafana/ui';
import { HOST_IDS } from './ids';

interface Options {
  legend?: VizLegendOptions;
}

function TimeSeriesPanel({ data, timeRange, timeZone, width, height, options }: PanelProps<Options>) {
  const frames = data.series.filter((f) => f.length > 0);
  if (frames.length === 0) {
    return <div data-testid={HOST_IDS.noData}>No data</div>;
  }
  const legend: VizLegendOptions = {
    showLegend: true,
    displayMode: 'list' as never,
    placement: 'bottom',
    calcs: [],
    ...(options.legend ?? {}),
  };
  return (
    <TimeSeries
      frames={frames}
      structureRev={data.structureRev}
      timeRange={timeRange}
      timeZone={timeZone}
      width={width}
      height={height}
      legend={legend}
    >
      {() => null}
    </TimeSeries>
  );
}

function corePanel(id: string, name: string, panel: PanelPlugin): PanelPlugin {
  const meta: PanelPluginMeta = {
    id,
    name,
    type: PluginType.panel,
    sort: 0,
    module: `core:plugin/${id}`,
    baseUrl: `public/app/plugins/panel/${id}`,
    info: {
      author: { name: 'Grafana Labs' },
      description: '',
      links: [],
      logos: { small: '', large: '' },
      screenshots: [],
      updated: '',
      version: '',
    },
  };
  panel.meta = meta;
  return panel;
}

/**
 * The graph field options the time series panel takes (`fieldConfig.defaults.custom`), with
 * Grafana's defaults: registered so that scenes' field config and overrides (bars, stacking,
 * fixed colours) reach the frames, as they do in Grafana.
 */
const GRAPH_DEFAULTS: Record<string, unknown> = {
  drawStyle: 'line',
  lineInterpolation: 'linear',
  lineWidth: 1,
  fillOpacity: 0,
  gradientMode: 'none',
  showPoints: 'auto',
  pointSize: 5,
  spanNulls: false,
  barAlignment: 0,
  barWidthFactor: 0.6,
  axisPlacement: 'auto',
  stacking: { mode: 'none', group: 'A' },
};

function timeSeriesPlugin(): PanelPlugin<Options> {
  return new PanelPlugin<Options>(TimeSeriesPanel).useFieldConfig({
    useCustomConfig: (builder) => {
      for (const [path, defaultValue] of Object.entries(GRAPH_DEFAULTS)) {
        builder.addCustomEditor({
          id: path,
          path,
          name: path,
          defaultValue,
          editor: () => null,
          override: () => null,
          process: (value: unknown) => value,
          shouldApply: () => true,
        });
      }
    },
  });
}

export const panelPlugins: Record<string, PanelPlugin> = {
  timeseries: corePanel('timeseries', 'Time series', timeSeriesPlugin()),
};
