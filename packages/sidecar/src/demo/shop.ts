/**
 * A small simulated shop sending real OpenTelemetry traces (OTel JS SDK, OTLP/HTTP protobuf
 * exporter): frontend → checkout → auth → fraud-check → payment → inventory → database, with
 * realistic attributes, latencies and error rates, and a few violations of the example rules
 * seeded every minute. Used by `npm run demo` and by the end-to-end tests.
 */
import { context, Span, SpanKind, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const SERVICES = ['frontend', 'checkout', 'auth', 'fraud-check', 'payment', 'inventory', 'orders'] as const;
type Service = (typeof SERVICES)[number];

/** The kinds of violation the shop seeds, each breaking one example rule. */
export type Violation = 'missing-fraud-check' | 'auto-approve' | 'retry-storm' | 'pii-without-auth' | 'silent-server-error' | 'unaudited-payment-failure';
export const VIOLATIONS: readonly Violation[] = ['missing-fraud-check', 'auto-approve', 'retry-storm', 'pii-without-auth', 'silent-server-error', 'unaudited-payment-failure'];

export interface ShopOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces */
  url: string;
  /** Deterministic randomness for tests. */
  random?: () => number;
}

export class Shop {
  private readonly providers = new Map<Service, TracerProvider>();
  private readonly tracers = new Map<Service, Tracer>();
  private readonly random: () => number;
  private orderSeq = 1000;

  constructor(options: ShopOptions) {
    this.random = options.random ?? Math.random;
    for (const service of SERVICES) {
      const provider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.version': '2.3.1', 'deployment.environment': 'demo' }),
        spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.url }), scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 })],
      });
      this.providers.set(service, provider);
      this.tracers.set(service, provider.getTracer('betrace-demo-shop', '1.0.0'));
    }
  }

  private span(service: Service, name: string, parent: Span | undefined, startMs: number, durationMs: number, kind: SpanKind, attributes: Record<string, string | number | boolean>, error?: string): Span {
    const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
    const s = this.tracers.get(service)!.startSpan(name, { kind, attributes, startTime: startMs }, ctx);
    if (error !== undefined) {
      s.setStatus({ code: SpanStatusCode.ERROR, message: error });
    }
    s.end(startMs + durationMs);
    return s;
  }

  /** One checkout, with one seeded violation or none; returns the trace id. */
  checkout(violation?: Violation): string {
    const r = this.random;
    const t0 = Date.now();
    const orderId = `ord-${this.orderSeq++}`;
    const amount = violation === 'missing-fraud-check' ? 1500 + Math.round(r() * 2000) : Math.round(r() * 1800);
    const currency = r() < 0.7 ? 'USD' : 'EUR';
    const chargeFails = violation === 'unaudited-payment-failure' || r() < 0.03;
    const rootError = violation === 'silent-server-error' ? '' : undefined;
    const root = this.tracers.get('frontend')!.startSpan(
      'POST /checkout',
      { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': rootError !== undefined ? 500 : 200, 'user.id': `u-${Math.floor(r() * 9000)}` } },
      context.active(),
    );
    if (rootError !== undefined) {
      root.setStatus({ code: SpanStatusCode.ERROR });
    }
    const co = this.span('checkout', 'checkout', root, t0 + 3, 380, SpanKind.INTERNAL, { order_id: orderId, 'cart.items': 1 + Math.floor(r() * 5) });
    if (violation !== 'pii-without-auth') {
      this.span('auth', 'auth.check', co, t0 + 5, 4 + r() * 4, SpanKind.CLIENT, { decision: 'allow', 'auth.method': 'jwt' });
    }
    this.span('orders', 'database.query', co, t0 + 12, 3 + r() * 5, SpanKind.CLIENT, {
      'db.system': 'postgresql',
      'db.operation': 'SELECT',
      'db.statement': 'SELECT email, phone FROM customers WHERE id = $1',
      'data.contains_pii': true,
    });
    if (amount > 1000 && violation !== 'missing-fraud-check') {
      this.span('fraud-check', 'payment.fraud_check', co, t0 + 20, 25 + r() * 30, SpanKind.CLIENT, { order_id: orderId, score: Math.round(r() * 100) / 100 });
    }
    const chargeStart = t0 + 70;
    const charge = this.span('payment', 'payment.charge', co, chargeStart, 120 + r() * 150, SpanKind.CLIENT, { order_id: orderId, amount, currency, 'payment.method': 'card' }, chargeFails ? 'card declined' : undefined);
    if (chargeFails && violation !== 'unaudited-payment-failure') {
      this.span('payment', 'audit.log', charge, chargeStart + 200, 1, SpanKind.INTERNAL, { event: 'payment_failed', order_id: orderId });
    }
    if (violation === 'auto-approve') {
      this.span('payment', 'payment.auto_approve', charge, chargeStart + 2, 1, SpanKind.INTERNAL, { reason: 'trusted_customer' });
    }
    const retries = violation === 'retry-storm' ? 5 : r() < 0.1 ? 1 : 0;
    for (let i = 0; i < retries; i++) {
      this.span('payment', 'http.retry', charge, chargeStart + 5 + i * 10, 8, SpanKind.CLIENT, { 'http.resend_count': i + 1, 'server.address': 'psp.example' });
    }
    const inv = this.span('inventory', 'inventory.reserve', co, t0 + 280, 50 + r() * 40, SpanKind.INTERNAL, { order_id: orderId, sku: `SKU-${Math.floor(r() * 900)}` });
    this.span('inventory', 'database.query', inv, t0 + 285, 6, SpanKind.CLIENT, {
      'db.system': 'postgresql',
      'db.operation': 'UPDATE',
      'db.statement': 'UPDATE stock SET reserved = reserved + 1 WHERE sku = $1',
    });
    root.end(t0 + 420);
    return root.spanContext().traceId;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.shutdown()));
  }
}
