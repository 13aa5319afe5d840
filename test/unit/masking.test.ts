import { describe, expect, it } from 'vitest';
import { describeBody, maskAddress, maskEmail, maskPhone } from '../../functions/domain/masking.ts';

describe('masking', () => {
  it('keeps the country code, area code and last four digits of a phone number', () => {
    expect(maskPhone('+12025550143')).toBe('+1202***0143');
  });

  it('keeps the first letter and the domain of an email address', () => {
    expect(maskEmail('ana@example.com')).toBe('a***@example.com');
  });

  it('hides almost all of a short phone number', () => {
    expect(maskPhone('+1234567')).toBe('+1***');
  });

  it('hides the whole of an address without a local part', () => {
    expect(maskEmail('@example.com')).toBe('***');
    expect(maskEmail('not-an-address')).toBe('***');
  });

  it('masks either kind of address by its shape', () => {
    expect(maskAddress('ana@example.com')).toBe('a***@example.com');
    expect(maskAddress('+12025550143')).toBe('+1202***0143');
    expect(maskAddress(undefined)).toBeUndefined();
  });

  it('describes a body by its length only', () => {
    expect(describeBody('Your code is 123456')).toBe('[19 chars]');
    expect(describeBody(undefined)).toBe('[0 chars]');
  });
});
