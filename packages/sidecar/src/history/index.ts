/** The history of recent traces (docs/history.md): kept ingest log segments, compressed, read by discovery and replay. */
export { History, HISTORY_ROLL_MS, EVICT_EVERY_MS, DEFAULT_MAX_WINDOW_SPANS } from './history';
export type { HistoryDescription, HistoryOptions, HistoryProgress, HistorySource, HistorySourceOptions } from './history';
export { BROTLI_QUALITY, HistoryFiles } from './files';
export type { HistorySegment, SegmentIndex } from './files';
