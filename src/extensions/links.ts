import {
  PluginExtensionPoints,
  type PluginExtensionAddedLinkConfig,
  type PluginExtensionResourceAttributesContext,
} from '@grafana/data';
import { draftFromTraceUrl, newRuleUrl, signalsForTraceUrl } from '../builders/exploreUrl';
import { PLUGIN_BASE_URL, ROUTES } from '../constants';

/*
 * BeTrace in Explore's trace view (Grafana 13.2, the plugin's grafanaDependency). Facts from
 * Grafana's source and the plugin-tools docs, no Grafana server here:
 *
 * - `grafana/traceview/header/actions` (PluginExtensionPoints.TraceViewHeaderActions): buttons in
 *   the trace header. TracePageHeader.tsx calls usePluginLinks with `limitPerPlugin: 2` and the
 *   context `{ ...trace, datasource: { name, uid, type } }` — Grafana's TraceView `Trace`
 *   (traceID, spans with spanID/operationName/process, startTime/endTime in µs; types/trace.ts,
 *   `TraceViewPluginExtensionContext`). A click does `window.open(link.path, '_blank')` when the
 *   link has a path, then `link.onClick?.(event)`. It has no picked span.
 * - `grafana/traceview/resource-attributes` (TraceViewResourceAttributes): links in a span's
 *   details, shown on the attribute row whose key equals the link's `category`; context
 *   `PluginExtensionResourceAttributesContext` (@grafana/data 13.2: attributes, spanAttributes,
 *   timeRange, datasource, traceID, spanID, spanStartTime). This is the span the user picked.
 * - `grafana/traceview/details` (TraceViewDetails) is not usable: SpanDetailLinkButtons keeps only
 *   the link of `grafana-pyroscope-app` from it.
 * - `configure(context)` runs synchronously on every render: Grafana skips a Promise it returns
 *   ("returned a promise, skipping updates", getLinkExtensionOverrides in
 *   public/app/features/plugins/extensions/utils.tsx). So the signals action cannot fetch the
 *   count there; the Signals page it opens shows the count and the top severity.
 * - `path` must point inside the app (`/a/betrace-app/…`, assertLinkPathIsValid); a link needs a
 *   path or onClick at registration, and plugin.json must declare it (`extensions.addedLinks`,
 *   same title and targets) — plugin-tools "Register content in an extension point".
 */

/** The link titles: the same strings in plugin.json's `extensions.addedLinks`. */
export const CREATE_RULE_TITLE = 'Create a BeTrace rule from this trace';
export const SIGNALS_TITLE = 'BeTrace signals for this trace';
/** Descriptions, equal to plugin.json's too: Grafana warns when they differ. */
export const CREATE_RULE_DESCRIPTION =
  'Open the BeTrace rule editor with a rule drafted from this trace (or span), and the trace in its Test panel';
export const SIGNALS_DESCRIPTION =
  'The signals BeTrace raised on this trace: their count and top severity, on the Signals page';
/** The span-details link sits on this resource attribute's row (every OpenTelemetry span has it). */
export const SPAN_LINK_ATTRIBUTE = 'service.name';

/** The part of the header context BeTrace reads (Grafana's `TraceViewPluginExtensionContext`). */
export interface TraceHeaderContext {
  traceID?: string;
  /** Microseconds since the epoch. */
  startTime?: number;
  datasource?: { uid?: string; type?: string; name?: string };
}

const HEX_TRACE = /^[0-9a-f]{1,32}$/i;
const HEX_SPAN = /^[0-9a-f]{16}$/i;

/** Tempo's trace view only: BeTrace reads traces from Tempo, and other ids may not be hex. */
function tempoTrace(traceId: unknown, datasource: { type?: string } | undefined): string | undefined {
  return typeof traceId === 'string' && HEX_TRACE.test(traceId) && datasource?.type === 'tempo' ? traceId : undefined;
}

/**
 * The span Explore has focused (`panelsState.trace.spanId` of a pane in the URL: a deep link or
 * "Share span"), so the header action can start from it; absent, the draft starts at the root.
 */
export function focusedSpanId(search: Record<string, unknown>): string | undefined {
  if (typeof search.panes !== 'string') {
    return undefined;
  }
  try {
    const panes = JSON.parse(search.panes) as Record<string, { panelsState?: { trace?: { spanId?: unknown } } }>;
    const ids = Object.values(panes ?? {})
      .map((p) => p?.panelsState?.trace?.spanId)
      .filter((id): id is string => typeof id === 'string' && HEX_SPAN.test(id));
    return ids.length === 1 ? ids[0] : undefined;
  } catch {
    return undefined;
  }
}

export function createRuleFromTraceHeader(
  search: () => Record<string, unknown>
): PluginExtensionAddedLinkConfig<TraceHeaderContext> {
  return {
    title: CREATE_RULE_TITLE,
    description: CREATE_RULE_DESCRIPTION,
    targets: [PluginExtensionPoints.TraceViewHeaderActions],
    icon: 'plus',
    // Required at registration; configure() always replaces it or hides the link.
    path: newRuleUrl(),
    configure: (context) => {
      const traceId = tempoTrace(context?.traceID, context?.datasource);
      if (!traceId) {
        return undefined;
      }
      return { path: draftFromTraceUrl({ traceId, spanId: focusedSpanId(search()), datasourceUid: context?.datasource?.uid }) };
    },
  };
}

export function createRuleFromSpan(): PluginExtensionAddedLinkConfig<PluginExtensionResourceAttributesContext> {
  return {
    title: CREATE_RULE_TITLE,
    description: CREATE_RULE_DESCRIPTION,
    targets: [PluginExtensionPoints.TraceViewResourceAttributes],
    icon: 'plus',
    // SpanDetail (13.2) shows a link on the row whose key equals its `category`; `group` is its successor.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    category: SPAN_LINK_ATTRIBUTE,
    group: { name: SPAN_LINK_ATTRIBUTE },
    path: newRuleUrl(),
    configure: (context) => {
      const traceId = tempoTrace(context?.traceID, context?.datasource);
      const spanId = typeof context?.spanID === 'string' && HEX_SPAN.test(context.spanID) ? context.spanID : undefined;
      if (!traceId || !spanId) {
        return undefined;
      }
      return { path: draftFromTraceUrl({ traceId, spanId, datasourceUid: context?.datasource?.uid }) };
    },
  };
}

/** An hour before the trace started, in epoch ms: the Signals page's range starts there. */
const HOUR_MS = 3_600_000;

export function signalsForTrace(): PluginExtensionAddedLinkConfig<TraceHeaderContext> {
  return {
    title: SIGNALS_TITLE,
    description: SIGNALS_DESCRIPTION,
    targets: [PluginExtensionPoints.TraceViewHeaderActions],
    icon: 'bell',
    path: `${PLUGIN_BASE_URL}/${ROUTES.Signals}`,
    configure: (context) => {
      // Signals are looked up by id alone: any trace view whose ids are hex (Tempo, Jaeger, Zipkin).
      const traceId = typeof context?.traceID === 'string' && HEX_TRACE.test(context.traceID) ? context.traceID : undefined;
      if (!traceId) {
        return undefined;
      }
      const start = typeof context?.startTime === 'number' ? context.startTime / 1000 - HOUR_MS : undefined;
      return { path: signalsForTraceUrl(traceId, start) };
    },
  };
}
