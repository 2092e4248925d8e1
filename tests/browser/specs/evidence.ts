import * as fs from 'fs';
import { waitForText } from '../harness/wait';
import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { EvidencePage } from '../pages/evidencePage';

/**
 * The page's outcomes panel runs a TraceQL metrics query through the Tempo data source; the Tempo
 * double serves no /api/metrics/query_range and answers 404 (docs/browser-suite.md).
 */
const TEMPO_METRICS = /^\/api\/datasources\/proxy\/uid\/tempo\/api\/metrics\/query_range$/;

export function evidenceSpecs(suite: Suite): void {
  describe('Evidence', () => {
    it(
      'summarises the signed evidence per control and exports CSV, JSON and PDF',
      async () => {
        const host = await suite.tab('admin');
        host.allow(TEMPO_METRICS, 404);
        const evidence = new EvidencePage(host);
        await evidence.open('?from=now-1h&to=now&var-framework=soc2');
        await waitForText(evidence.controls, 'CC6.1');
        await waitForText(evidence.verification, /signed records/);
        await host.screenshot('evidence');
        for (const format of ['CSV', 'JSON', 'PDF'] as const) {
          const download = await evidence.export(format);
          expect(download.suggestedFilename()).toMatch(new RegExp(`\\.${format.toLowerCase()}$`));
          const file = await download.path();
          const head = fs.readFileSync(file).subarray(0, 5).toString();
          if (format === 'PDF') expect(head).toBe('%PDF-');
          if (format === 'JSON') expect(() => JSON.parse(fs.readFileSync(file, 'utf8'))).not.toThrow();
        }
      },
      SPEC_MS
    );

    it(
      'lets a Viewer read the evidence but not export it (no buttons, and 403 from the proxy)',
      async () => {
        const host = await suite.tab('viewer');
        host.allow(TEMPO_METRICS, 404);
        host.allow(/^\/api\/plugin-proxy\/betrace-app\/sidecar\/api\/v1\/evidence\/export$/, 403);
        const evidence = new EvidencePage(host);
        await evidence.open();
        await evidence.container.waitFor();
        expect(await evidence.exportButtons.count()).toBe(0);
        const status = await host.page.evaluate(
          async () => (await fetch('/api/plugin-proxy/betrace-app/sidecar/api/v1/evidence/export?format=csv')).status
        );
        expect(status).toBe(403);
        await host.screenshot('evidence-viewer');
      },
      SPEC_MS
    );
  });
}
