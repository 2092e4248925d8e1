/**
 * Redaction of spans in the evaluator's model (history hands these out; the engine's own walkers
 * take OTLP resourceSpans): the same strings and attributes `Redactor.resourceSpans` redacts.
 * Span, event and status texts go through `text`; span, resource, event and link attributes
 * (plain maps here) through `json`, which replaces the values of sensitive keys whole and leaves
 * out what `drop` removes. Ids, times, kinds and statuses are untouched.
 */
import type { AttrMap, Span } from '@betrace/evaluator';
import type { Redactor } from './engine';

/** A function redacting one span by the tenant's policy; returns a new span, never changes its argument. */
export function spanRedactor(r: Redactor): (span: Span) => Span {
  const attrs = (m: AttrMap): AttrMap => {
    const out = r.json(m) as AttrMap | undefined;
    return out !== null && typeof out === 'object' ? out : {};
  };
  return (span) => {
    const resource = attrs(span.resource);
    const service = resource['service.name'];
    const out: Span = {
      ...span,
      name: r.text(span.name),
      statusMessage: span.statusMessage === '' ? '' : r.text(span.statusMessage),
      service: typeof service === 'string' ? service : r.text(span.service),
      attrs: attrs(span.attrs),
      resource,
      events: span.events.map((e) => ({ ...e, name: r.text(e.name), attrs: attrs(e.attrs) })),
      links: span.links.map((l) => ({ ...l, attrs: attrs(l.attrs) })),
    };
    if (span.scope !== undefined) {
      out.scope = { ...span.scope, name: r.text(span.scope.name) };
    }
    return out;
  };
}
