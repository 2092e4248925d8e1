/**
 * The auditor's report as a PDF (pdfkit): scope, period, the per-control table, the chain's
 * verification summary, and the record list with each record's verdict.
 */
import PDFDocument from 'pdfkit';
import { EvidenceReport, verificationText } from './report';

interface Column {
  title: string;
  width: number;
}

export function renderPdf(report: EvidenceReport, options: { compress?: boolean } = {}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 40,
    compress: options.compress ?? true,
    info: { Title: `BeTrace compliance evidence — ${report.tenant}`, Author: 'BeTrace', CreationDate: new Date(report.generatedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const heading = (text: string) => {
    doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).text(text, left).moveDown(0.3).font('Helvetica').fontSize(9);
  };
  const row = (cells: string[], columns: Column[], bold = false) => {
    if (doc.y + 14 > bottom()) {
      doc.addPage();
    }
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
    let x = left;
    let height = 0;
    cells.forEach((cell, i) => {
      height = Math.max(height, doc.heightOfString(cell, { width: columns[i].width - 4 }));
      doc.text(cell, x, y, { width: columns[i].width - 4, lineBreak: true });
      x += columns[i].width;
    });
    doc.x = left;
    doc.y = y + height + 3;
  };
  const table = (columns: Column[], rows: string[][]) => {
    row(
      columns.map((c) => c.title),
      columns,
      true,
    );
    rows.forEach((r) => row(r, columns));
  };

  doc.font('Helvetica-Bold').fontSize(18).text('Compliance evidence report');
  doc.font('Helvetica').fontSize(10).moveDown(0.5);
  doc.text(`Tenant: ${report.tenant}`);
  doc.text(`Scope: framework ${report.scope.framework ?? 'all'}, control ${report.scope.control ?? 'all'}`);
  const first = report.records.length > 0 ? report.records.reduce((m, r) => (r.windowStart < m ? r.windowStart : m), report.records[0].windowStart) : undefined;
  const last = report.records.length > 0 ? report.records.reduce((m, r) => (r.windowEnd > m ? r.windowEnd : m), report.records[0].windowEnd) : undefined;
  doc.text(`Period: ${report.period.from ?? first ?? 'no records'} to ${report.period.to ?? last ?? 'no records'}${report.period.from === null && report.period.to === null ? ' (all records)' : ''}`);
  doc.text(`Generated: ${report.generatedAt} by BeTrace`);
  doc.text(`Records in scope: ${report.records.length}`);

  heading('Per-control results');
  table(
    [
      { title: 'Framework', width: 90 },
      { title: 'Control', width: 110 },
      { title: 'Traces checked (trigger held)', width: 110 },
      { title: 'Failed traces', width: 80 },
      { title: 'Records', width: 60 },
      { title: 'Pass records', width: 60 },
      { title: 'Fail records', width: 100 },
    ],
    report.controls.map((c) => [c.framework, c.control, String(c.checkedTraces), String(c.failedTraces), String(c.records), String(c.pass), String(c.fail)]),
  );
  doc.font('Helvetica').fontSize(8).text(
    'Traces are counted once per window, and only where a rule applies (its trigger held); other traces are neither passed nor failed. ' +
      'Records are the signed evidence records: one summary per rule and window, plus one per failing trace.',
  );
  doc.fontSize(9);

  heading('Verification of the evidence chain');
  const v = report.verification;
  const seqs = (list: number[]) => (list.length === 0 ? 'none' : list.slice(0, 50).join(', ') + (list.length > 50 ? ` … (${list.length} listed)` : ''));
  doc.font('Helvetica-Bold').fontSize(10).text(v.ok ? 'Result: the chain verifies — no record altered, missing or reordered.' : 'Result: PROBLEMS FOUND — see below.');
  doc.font('Helvetica').fontSize(9);
  doc.text(`Records in the chain: ${v.records}; verified with signature and link: ${v.verified}`);
  doc.text(`Altered (signature mismatch): ${seqs(v.altered)}`);
  doc.text(`Missing (seq gaps): ${seqs(v.missing)}`);
  doc.text(`Reordered: ${seqs(v.reordered)}`);
  doc.text(`Broken links (prev mismatch): ${seqs(v.brokenLinks)}`);
  doc.text(`Signed by an unknown key: ${seqs(v.unknownKey)}`);
  doc.text(`Stored head matches its record: ${v.headMismatch ? 'NO' : 'yes'}`);
  const a = v.anchors;
  doc.text(
    a.latest === null
      ? 'Anchors published outside the data folder: none yet (truncation and replacement cannot be detected).'
      : `Anchors published outside the data folder: ${a.anchors}, the latest at seq ${a.latest.seq} (${a.latest.anchoredAt}).`,
  );
  doc.text(`Anchored records the chain no longer reaches (truncated): ${seqs(a.truncated)}; not matching their anchor (rewritten or replaced): ${seqs(a.mismatched)}`);
  doc.text(`Anchors that do not verify: ${seqs([...a.altered, ...a.unknownKey])}; out of order: ${seqs(a.outOfOrder)}; unreadable lines: ${a.unreadable}`);
  doc.text('Signatures: HMAC-SHA256 over the canonical form (docs/evidence.md); prev: SHA-256 of the previous record.');

  heading('Records');
  table(
    [
      { title: 'Seq', width: 35 },
      { title: 'Framework / control', width: 105 },
      { title: 'Rule', width: 130 },
      { title: 'Type', width: 45 },
      { title: 'Outcome', width: 45 },
      { title: 'Window (UTC)', width: 150 },
      { title: 'Checked / failed', width: 60 },
      { title: 'Key', width: 60 },
      { title: 'Signature', width: 75 },
      { title: 'Verified', width: 57 },
    ],
    report.records.map((r) => [
      String(r.seq),
      `${r.framework} ${r.control}`,
      r.ruleId,
      r.evidenceType,
      r.outcome,
      r.windowStart === r.windowEnd ? r.windowStart : `${r.windowStart} – ${r.windowEnd}`,
      `${r.checkedTraces} / ${r.failedTraces}`,
      r.keyId,
      `${r.signature.slice(0, 16)}…`,
      verificationText(r.verification),
    ]),
  );
  doc.end();
  return done;
}
