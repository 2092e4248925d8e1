import { PassThrough } from 'stream';
import { isLoopback } from '../src/commands/serve';
import { loadConfig } from '../src/config';
import { createLogger, prettyLine } from '../src/logFormat';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY?: boolean };
  stream.isTTY = isTTY;
  let text = '';
  (stream as unknown as PassThrough).on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('log format', () => {
  it('prints one line per entry for a terminal: time, level, message, then the fields', () => {
    const line = prettyLine({ level: 40, time: Date.UTC(2026, 11, 2, 9, 5, 7, 42), pid: 1, hostname: 'h', name: 'betrace', msg: 'delivery failing', writer: 'webhook', cause: 'POST http://x/…: connect ECONNREFUSED 127.0.0.1:9', attempts: 3 });
    expect(line).toBe('09:05:07.042 WARN  delivery failing  writer=webhook cause="POST http://x/…: connect ECONNREFUSED 127.0.0.1:9" attempts=3\n');
    expect(prettyLine({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at x' } })).toBe('00:00:00.000 ERROR failed  err="disk full"\n');
  });

  it('is pretty on a terminal and JSON otherwise with LOG_FORMAT=auto, either way when asked', async () => {
    for (const [format, tty, json] of [['auto', true, false], ['auto', false, true], ['json', true, true], ['pretty', false, false]] as const) {
      const out = capture(tty);
      createLogger('info', format, out.stream).info({ tenant: 'default' }, 'hello');
      await tick();
      if (json) {
        expect(JSON.parse(out.text())).toMatchObject({ level: 30, msg: 'hello', tenant: 'default', name: 'betrace' });
      } else {
        expect(out.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  hello {2}tenant=default\n$/);
      }
    }
  });

  it('reads LOG_FORMAT and refuses other values', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT: expected one of auto, json, pretty, got "xml"');
  });
});

describe('listen address', () => {
  it('is loopback by default', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback);
  });
});
