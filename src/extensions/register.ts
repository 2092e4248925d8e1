import type { AppPlugin, KeyValue } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { createRuleFromSpan, createRuleFromTraceHeader, signalsForTrace } from './links';

/** BeTrace's links in Explore's trace view (src/extensions/links.ts), declared in plugin.json's extensions.addedLinks. */
export function addTraceViewLinks<T extends KeyValue>(app: AppPlugin<T>): AppPlugin<T> {
  return app
    .addLink(createRuleFromTraceHeader(() => locationService.getSearchObject()))
    .addLink(signalsForTrace())
    .addLink(createRuleFromSpan());
}
