/**
 * How the sidecar's log lines look: JSON (one object per line, for log shippers) or a short
 * human-readable form for a terminal. `LOG_FORMAT=auto` (the default) picks pretty when stdout is
 * a terminal and JSON otherwise, so `npm start` reads well and a container's logs stay parseable.
 */
import pino, { type Logger } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields: shown as the line's head, not repeated as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') {
    return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  }
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON object as `HH:MM:SS.mmm LEVEL message key=value …` (UTC, as the JSON is). */
export function prettyLine(entry: Record<string, unknown>): string {
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5);
  const fields: string[] = [];
  for (const [k, v] of Object.entries(entry)) {
    if (!HEAD.has(k) && v !== undefined) {
      if (k === 'err' && typeof v === 'object' && v !== null) {
        // An error's message, not its stack: the stack is in the JSON form for whoever needs it.
        fields.push(`err=${value((v as { message?: unknown }).message ?? v)}`);
      } else {
        fields.push(`${k}=${value(v)}`);
      }
    }
  }
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

/**
 * The sidecar's logger on stdout in the format asked for. `mixin`: fields every line gets (the
 * active span's trace_id and span_id, when the sidecar traces itself).
 */
export function createLogger(level: string, format: LogFormat, stream: NodeJS.WriteStream = process.stdout, mixin?: () => object): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && stream.isTTY === true);
  const options = mixin === undefined ? { level, name: 'betrace' } : { level, name: 'betrace', mixin };
  if (!pretty) {
    return pino(options, stream);
  }
  return pino(
    options,
    {
      write(line: string) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          stream.write(line);
          return;
        }
        stream.write(prettyLine(entry));
      },
    },
  );
}
