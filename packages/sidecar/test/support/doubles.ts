/**
 * Test doubles of what the writers talk to: Grafana's annotations API, an OTLP/HTTP sink and a
 * webhook receiver. Each records what it receives and can be taken "down" (answering 503).
 */
import * as http from 'http';
import { AddressInfo } from 'net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class HttpDouble {
  readonly requests: Recorded[] = [];
  down = false;
  private server: http.Server | undefined;
  private nextId = 1;

  constructor(private readonly respond: (req: Recorded, double: HttpDouble) => { status: number; body?: unknown } = () => ({ status: 200, body: {} })) {}

  newId(): number {
    return this.nextId++;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.down) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
          return;
        }
        const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
        this.requests.push(rec);
        const { status, body } = this.respond(rec, this);
        res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Grafana's POST /api/annotations answers {id, message}; PATCH /api/annotations/:id answers {message}. */
export function grafanaDouble(): HttpDouble {
  return new HttpDouble((req, d) => (req.method === 'POST' ? { status: 200, body: { id: d.newId(), message: 'Annotation added' } } : { status: 200, body: { message: 'Annotation patched' } }));
}
