import { anchorProblemText, evidencePageFromWire, recordVerification, type WireRecordVerification } from './evidence';

const ok: WireRecordVerification = { seq: 1, signature: 'valid', link: 'valid', reordered: false, ok: true };

describe('the sidecar evidence answer, as the Evidence page reads it', () => {
  it('names one status per record, with why', () => {
    expect(recordVerification(ok)).toEqual({ status: 'verified' });
    expect(recordVerification({ ...ok, signature: 'invalid', ok: false }).status).toBe('altered');
    expect(recordVerification({ ...ok, signature: 'unknown_key', ok: false })).toEqual({ status: 'altered', reason: 'signed with a key this sidecar does not hold' });
    expect(recordVerification({ ...ok, reordered: true, ok: false }).status).toBe('reordered');
    expect(recordVerification({ ...ok, link: 'broken', ok: false }).status).toBe('altered');
    expect(recordVerification({ ...ok, link: 'unchecked', ok: false })).toEqual({ status: 'missing', reason: 'the record before it is missing from the chain' });
  });

  it('counts the chain summary from the seqs the sidecar lists', () => {
    const page = evidencePageFromWire({
      records: [],
      total: 9,
      limit: 100,
      offset: 0,
      verification: { records: 9, verified: 4, altered: [2], brokenLinks: [3], missing: [5, 6], reordered: [8], unknownKey: [2, 9], duplicates: [], headMismatch: false, anchors: { anchors: 0, latest: null, altered: [], unknownKey: [], truncated: [], mismatched: [], outOfOrder: [], unreadable: 0 }, ok: false, scope: 'full', checkedAt: '2026-11-28T10:00:00.000Z', head: 9 },
      summary: { scope: { framework: null, control: null }, period: { from: null, to: null }, controls: [] },
    });
    expect(page.summary).toEqual({ records: 9, verified: 4, altered: 3, missing: 2, reordered: 1, anchorProblems: null });
  });

  it('says what the anchors found: a cut tail, a replaced chain, a head that does not match', () => {
    const base = { records: 3, verified: 3, altered: [], brokenLinks: [], missing: [], reordered: [], unknownKey: [], duplicates: [], ok: false, scope: 'full' as const, checkedAt: '2026-11-28T10:00:00.000Z', head: 3 };
    const anchors = { anchors: 2, latest: { seq: 5, anchoredAt: '2026-11-28T09:00:00.000Z' }, altered: [], unknownKey: [], truncated: [5], mismatched: [], outOfOrder: [], unreadable: 0 };
    expect(anchorProblemText({ ...base, headMismatch: false, anchors })).toBe('The chain no longer reaches anchored record 5 (records were deleted from its end).');
    expect(anchorProblemText({ ...base, headMismatch: true, anchors: { ...anchors, truncated: [], mismatched: [2] } })).toBe(
      'Anchored record 2 no longer matches its anchor (the chain was rewritten or replaced); the stored head does not match the last record.'
    );
    expect(anchorProblemText({ ...base, ok: true, headMismatch: false, anchors: { ...anchors, truncated: [] } })).toBeNull();
  });

  it('keeps the sidecar’s exact counts per control', () => {
    const controls = [
      { framework: 'soc2', control: 'CC6.1', records: 700, pass: 650, fail: 50, checkedTraces: 9000, failedTraces: 48 },
    ];
    const page = evidencePageFromWire({
      records: [],
      total: 700,
      limit: 100,
      offset: 0,
      verification: { records: 700, verified: 700, altered: [], brokenLinks: [], missing: [], reordered: [], unknownKey: [], duplicates: [], headMismatch: false, anchors: { anchors: 0, latest: null, altered: [], unknownKey: [], truncated: [], mismatched: [], outOfOrder: [], unreadable: 0 }, ok: true, scope: 'full', checkedAt: '2026-11-28T10:00:00.000Z', head: 700 },
      summary: { scope: { framework: null, control: null }, period: { from: null, to: null }, controls },
    });
    expect(page.controls).toEqual(controls);
  });
});
