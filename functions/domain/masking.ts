/**
 * Masks personal data before it reaches a log line: `+1202***0143`, `a***@example.com`, `[12 chars]`.
 */
export const maskPhone = (phone: string | undefined): string | undefined => {
  if (!phone) return phone;
  if (phone.length <= 8) return `${phone.slice(0, 2)}***`;
  return `${phone.slice(0, 5)}***${phone.slice(-4)}`;
};

export const maskEmail = (email: string | undefined): string | undefined => {
  if (!email) return email;
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
};

export const maskAddress = (address: string | undefined): string | undefined =>
  address?.includes('@') ? maskEmail(address) : maskPhone(address);

/** Bodies are never logged, only their size. */
export const describeBody = (body: string | undefined): string => `[${body?.length ?? 0} chars]`;
