/** KeyInterest, Span.attr's key matcher: bytes against the keys asked for, and the text invalid UTF-8 reads as. */
import { KeyInterest } from '../src/decode/protoValues';
import { ProtoReader } from '../src/decode/protoReader';

const reader = (bytes: number[]) => new ProtoReader(new Uint8Array(bytes));
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

describe('KeyInterest', () => {
  it('numbers keys as they are asked for and finds them by their bytes', () => {
    const k = new KeyInterest(8);
    expect(k.indexOf('amount')).toBe(0);
    expect(k.indexOf('decision')).toBe(1);
    expect(k.indexOf('amount')).toBe(0);
    expect(k.size).toBe(2);
    const r = reader([...ascii('xdecision'), ...ascii('amounts')]);
    expect(k.find(r, 1, 9)).toBe(1);
    expect(k.find(r, 9, 15)).toBe(0);
    expect(k.find(r, 9, 16)).toBe(-1); // "amounts"
    expect(k.find(r, 0, 0)).toBe(-1); // the empty key was not asked for
  });

  it('with only ASCII keys, a key with bytes ≥ 0x80 matches nothing; with a non-ASCII key, invalid UTF-8 matches U+FFFD', () => {
    const k = new KeyInterest(8);
    k.indexOf('a');
    const r = reader([0xff, 0xc3, 0xa9]);
    expect(k.find(r, 0, 1)).toBe(-1);
    expect(k.indexOf('\ufffd')).toBe(1);
    expect(k.indexOf('é')).toBe(2);
    expect(k.find(r, 0, 1)).toBe(1); // 0xff reads as U+FFFD
    expect(k.find(r, 1, 3)).toBe(2); // é by its bytes
  });

  it('refuses keys past its bound and keys with a lone surrogate', () => {
    const k = new KeyInterest(2);
    expect(k.indexOf('\ud800')).toBe(-1);
    expect(k.indexOf('a')).toBe(0);
    expect(k.indexOf('b')).toBe(1);
    expect(k.indexOf('c')).toBe(-1);
    expect(k.indexOf('a')).toBe(0);
  });
});
