import { formatCost, formatFireRate, formatRatio } from './healthFormat';

describe('rule health formats', () => {
  it.each([
    [null, '—'],
    [undefined, '—'],
    [1, '100.0 %'],
    [0.375, '37.5 %'],
    [0.99949, '99.9 %'],
    [0, '0.0 %'],
  ])('ratio %p → %p', (ratio, text) => {
    expect(formatRatio(ratio)).toBe(text);
  });

  it.each([
    [null, '—'],
    [0, '0/h'],
    [0.8333333, '0.83/h'],
    [2.5, '2.5/h'],
    [12.6, '13/h'],
  ])('fire rate %p → %p', (rate, text) => {
    expect(formatFireRate(rate)).toBe(text);
  });

  it.each([
    [null, undefined, '—'],
    [0.4321, undefined, '0.432 µs'],
    [12.34, 0.5, '12.3 µs (50 %)'],
    [2345, 0.061, '2.35 ms (6 %)'],
    [3, null, '3 µs'],
  ])('cost %p µs, share %p → %p', (micros, share, text) => {
    expect(formatCost(micros, share)).toBe(text);
  });
});
