/**
 * @betrace/evaluator — the BeTrace rule language, shared by the Grafana plugin (browser)
 * and the sidecar (Node). No Node-only or DOM-only imports anywhere in this package.
 */
export * from './ast';
export * from './model';
export * from './types';
// Invariant discovery's shared shapes (the plugin's Suggestions page types its API client with them).
export * from './discover/types';
export { LineMap } from './positions';
export { parseRule } from './parse';
export { compileRule } from './compile';
export { evaluateTrace } from './evaluate';
export { explainRule } from './explain';
export { pushdownRule } from './pushdown';
export { parseRuleFile, validateRuleDefinition } from './rulefile';
export { formatObjective, formatWindow, parseObjective, parseWindow, sloText, validateSlo } from './slo';
export { spanNamesOf, spanNamesOfConditions } from './vocabulary';
export { checkMessageTemplate, MESSAGE_PLACEHOLDERS } from './message';
export type { TemplateProblem } from './message';
export {
  decodeOtlpJson,
  decodeOtlpJsonText,
  decodeResourceSpans,
  decodeTempoTrace,
  decodeCheckedOtlpProtobuf,
  holdCheckedOtlpProtobuf,
  spanIdWords,
  HELD_SPAN_WORDS,
  WireBatch,
  WireTrace,
  decodeOtlpProtobuf,
  decodeOtlpProtobufSpans,
  partitionByTrace,
  partitionSkim,
  skimTraceRequest,
  traceShard,
  DecodeError,
  ProtobufError,
  MAX_ATTRIBUTE_DEPTH,
  MAX_PROTOBUF_NESTING,
  bytesToBase64,
  bytesToHex,
  base64ToBytes,
  normalizeTraceIdHex,
} from './decode';
export type { SkimmedResourceSpans, SkimmedScopeSpans, SkimmedSpan, TraceRequestSkim } from './decode';
export { compileAst } from './compile';
export type { EvaluateOptions, RuleCostSampling } from './evaluate';
export type { BudgetOptions, RuleSkipReason } from './budget';
export * from './limits';
export { traceqlString } from './pushdown';
export {
  discoverInvariants,
  MINING_HEAP_MB,
  suggestionId,
  wilson,
  canonicalRule,
  DISCOVER_DEFAULTS,
  DiscoverAborted,
  SUGGESTION_KINDS,
} from './discover';
export type { DiscoverOptions, DiscoverProgress, DiscoveryResult, Suggestion, SuggestionKind, TraceSource } from './discover';
// Names and literals written so the parser reads them back as they are (the plugin drafts rules from traces with it).
export { RuleText, literal as ruleLiteral } from './discover/text';
