import { describe, expect, it } from 'vitest';
import { isLoopbackHostHeader, isLoopbackName } from './loopback-host.js';

describe('loopback hosts', () => {
  it.each([
    ['127.0.0.1:8080', true],
    ['localhost:3000', true],
    ['LOCALHOST', true],
    ['[::1]:9464', true],
    ['evil.example:9464', false],
    ['127.0.0.1.evil.example', false],
    ['[::2]:80', false],
    ['', false],
    [undefined, false],
  ])('Host %s is loopback: %s', (header, expected) => {
    expect(isLoopbackHostHeader(header)).toBe(expected);
  });

  it('knows loopback bind addresses', () => {
    expect(isLoopbackName('127.0.0.1')).toBe(true);
    expect(isLoopbackName('::1')).toBe(true);
    expect(isLoopbackName('0.0.0.0')).toBe(false);
  });
});
