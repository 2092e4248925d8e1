/**
 * The pathological trace: one trace whose spans form a single parent chain (span i is the parent
 * of span i + 1), as OTLP/JSON, and a rule whose structural operators walk that chain for every
 * span. Shared by the stall test and `npm run bench stall`.
 */
'use strict';

/** A rule over the chain: every `step` needs the `leaf` below it and a `step` started before it. */
const CHAIN_RULE = {
  id: 'chain-walk',
  name: 'Every step reaches the leaf',
  severity: 'low',
  condition: 'when { s: step }\nalways { leaf.descendant_of(s) and step.before(s) }',
  enabled: true,
};

const hex = (n, width) => n.toString(16).padStart(width, '0');

/**
 * An ExportTraceServiceRequest (OTLP/JSON shape) for a chain of `spans` spans of trace `traceId`
 * (32 hex), from the `offset`-th span (for sending one trace in several requests); the last span
 * of the chain is named `leaf`. `id` maps hex ids for the wire: identity for OTLP/JSON, bytes for
 * protobufjs's fromObject (the protobuf encoding).
 */
function chainRequest(traceId, spans, { offset = 0, count = spans - offset, service = 'chain', id = (h) => h } = {}) {
  const t0 = 1_764_028_800_000_000_000n;
  const out = [];
  for (let i = offset; i < offset + count; i++) {
    const span = {
      traceId: id(traceId),
      spanId: id(hex(i + 1, 16)),
      name: i === spans - 1 ? 'leaf' : 'step',
      kind: 1,
      startTimeUnixNano: String(t0 + BigInt(i) * 1000n),
      endTimeUnixNano: String(t0 + BigInt(2 * spans - i) * 1000n),
      attributes: [{ key: 'depth', value: { intValue: String(i) } }],
      status: {},
    };
    if (i > 0) {
      span.parentSpanId = id(hex(i, 16));
    }
    out.push(span);
  }
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 'chain' }, spans: out }] }] };
}

/** Hex to bytes, for chainRequest's `id` when the request is to be encoded as protobuf. */
const hexBytes = (h) => Buffer.from(h, 'hex');

module.exports = { CHAIN_RULE, chainRequest, hexBytes };
