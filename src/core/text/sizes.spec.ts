import { formatBytes } from './sizes';

describe('formatBytes', () => {
  it.each([
    [16 * 1024 * 1024, '16 MiB'],
    [1024 * 1024, '1 MiB'],
    [1536 * 1024, '1536 KiB'],
    [64 * 1024, '64 KiB'],
    [17825795, '17825795 bytes'],
    [0, '0 bytes'],
  ])('writes %i as %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
