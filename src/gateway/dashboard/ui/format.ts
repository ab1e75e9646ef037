// How the dashboard writes times and amounts. Money arrives from the API already formatted
// (`…Usd`, exact text made from integer micro-dollars): the page shows that text as it is, adds up
// only the integers and formats a total with the gateway's own formatUsd, so its numbers are the
// API's to the last micro-dollar.
export { formatUsd } from '../../../pricing/money.js';

export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms === 0) return '—';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** YYYY-MM-DD of a Unix ms time, in UTC (the usage ledger's days are UTC days). */
export function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
