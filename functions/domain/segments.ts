import { SegmentedMessage } from 'sms-segments-calculator';

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  characters: number;
}

/** Counts SMS segments the way carriers bill them (GSM-7: 160, then 153 a segment; UCS-2: 70, then 67). */
export const countSegments = (body: string): SmsSegments => {
  const message = new SegmentedMessage(body, 'auto');
  return {
    encoding: message.encodingName === 'GSM-7' ? 'GSM-7' : 'UCS-2',
    segments: message.segmentsCount,
    characters: message.numberOfCharacters,
  };
};
