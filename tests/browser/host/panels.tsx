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

export const panelPlugins: Record<string, PanelPlugin> = {
  timeseries: corePanel('timeseries', 'Time series', new PanelPlugin<Options>(TimeSeriesPanel)),
};
