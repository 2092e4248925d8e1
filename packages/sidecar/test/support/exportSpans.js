#!/usr/bin/env node
/**
 * Exports spans with the real OpenTelemetry OTLP/HTTP protobuf exporter, in its own process (the
 * exporter loads its HTTP agent by dynamic import, which Jest's VM cannot run), and prints the
 * export result as JSON: `node exportSpans.js <url> <spans> [header=value ...]`.
 */
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');

async function main() {
  const [url, count, ...pairs] = process.argv.slice(2);
  const headers = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'export-test' }), spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer('betrace-export-test');
  for (let i = 0; i < Number(count); i++) {
    tracer.startSpan(`span-${i}`).end();
  }
  const exporter = new OTLPTraceExporter({ url, headers, timeoutMillis: 5000 });
  const result = await new Promise((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
  await exporter.shutdown();
  process.stdout.write(JSON.stringify({ code: result.code, error: result.error ? String(result.error.message) : undefined }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack));
  process.exit(1);
});
