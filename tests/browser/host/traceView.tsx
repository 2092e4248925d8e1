/**
 * A stand-in for Explore's trace view, as far as plugin extensions go: it asks the loaded plugin
 * for the links it added to the trace view's extension points and shows them the way Grafana's
 * TraceView does (grafana/public/app/features/explore/TraceView: the header's
 * `grafana/traceview/header/actions` links, and a span's `grafana/traceview/resource-attributes`
 * links on the attribute row named by the link's category). Each link's `configure` is called
 * with the context Grafana passes there (trace id, start time in µs, the data source; trace and
 * span id for the span point); a link it hides (undefined) is not shown, and `path` replaces the
 * registered one. A click opens the path — Grafana opens a new tab; the stand-in navigates this
 * one, so the spec can follow it.
 *
 * URL: /explore?traceId=<32 hex>&spanId=<16 hex>&ds=<data source uid>&dsType=<type>&start=<epoch µs>
 */
import React from 'react';
import type { AppPlugin, PluginExtensionAddedLinkConfig } from '@grafana/data';
import { locationService } from '@grafana/runtime';

const HEADER = 'grafana/traceview/header/actions';
const SPAN = 'grafana/traceview/resource-attributes';
/** The stand-in's trace view shows an hour from the trace's start. */
const HOUR_MS = 3_600_000;

interface Shown {
  point: string;
  title: string;
  path: string;
  category?: string;
}

function targetsOf(link: PluginExtensionAddedLinkConfig): string[] {
  return Array.isArray(link.targets) ? [...link.targets] : [link.targets];
}

/** The links a point shows for a context: configure() applied as Grafana applies it. */
export function linksFor(plugin: AppPlugin, point: string, context: Record<string, unknown>): Shown[] {
  const out: Shown[] = [];
  for (const link of plugin.addedLinkConfigs) {
    if (!targetsOf(link).includes(point)) {
      continue;
    }
    // Grafana passes a frozen copy of the context, and ignores a configure() that returns a Promise.
    const over = link.configure?.(Object.freeze({ ...context }) as never);
    if (over === undefined && link.configure !== undefined) {
      continue;
    }
    if (over !== undefined && typeof (over as { then?: unknown }).then === 'function') {
      continue;
    }
    const path = (over as { path?: string } | undefined)?.path ?? link.path;
    if (path !== undefined) {
      out.push({ point, title: (over as { title?: string } | undefined)?.title ?? link.title, path, category: link.category });
    }
  }
  return out;
}

export function TraceViewStandIn({ plugin }: { plugin: AppPlugin }) {
  const q = new URLSearchParams(window.location.search);
  const traceId = q.get('traceId') ?? '';
  const spanId = q.get('spanId') ?? '';
  const datasource = { type: q.get('dsType') ?? 'tempo', uid: q.get('ds') ?? '' };
  const start = Number(q.get('start') ?? '0');
  const header = linksFor(plugin, HEADER, { traceID: traceId, startTime: start, datasource });
  const span = spanId ? linksFor(plugin, SPAN, { traceID: traceId, spanID: spanId, datasource, attributes: {}, timeRange: { from: start / 1000, to: start / 1000 + HOUR_MS } }) : [];
  const open = (path: string) => locationService.push(path);
  return (
    <div data-testid="trace-view">
      <h2>Trace {traceId}</h2>
      <div data-testid="trace-view-header-actions">
        {header.map((l) => (
          <button key={l.title} onClick={() => open(l.path)}>
            {l.title}
          </button>
        ))}
      </div>
      <div data-testid="trace-view-span-links">
        {span.map((l) => (
          <button key={l.title} data-category={l.category} onClick={() => open(l.path)}>
            {l.title}
          </button>
        ))}
      </div>
    </div>
  );
}
