// Money inside the gateway is an integer count of micro-dollars (USD 0.000001): the store's
// columns, the quota counters, estimates and settlements. Integers add up exactly in SQL, Redis
// and JavaScript; USD as floats did not (a usage sum read 0.22000000000000006). USD decimals
// exist only at the edges: prices and budgets in the config come in as USD and are converted
// here once; the usage API and its CSV show USD as text formatted from the integer.

export const MICROS_PER_USD = 1_000_000;

/** The provider's unit: 1 credit = USD 0.005. */
export const MICROS_PER_CREDIT = 5_000;

/** USD (a config value) → micro-dollars. Prices are quoted in tenths of a cent, far above a micro. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

/** Credits the provider reports (a credit may be split: 0.8 credits) → micro-dollars. */
export function creditsToMicros(credits: number): number {
  return Math.round(credits * MICROS_PER_CREDIT);
}

/** Micro-dollars → credits, to a thousandth (what the simulator charges an account). */
export function microsToCredits(micros: number): number {
  return Math.round((micros * 1000) / MICROS_PER_CREDIT) / 1000;
}

/**
 * Micro-dollars as a USD decimal string, exact (integer arithmetic, no float in between): at
 * least two decimals, up to six, trailing zeros beyond the second dropped. 220000 → "0.22",
 * 1000000 → "1.00", 4000 → "0.004", 1 → "0.000001".
 */
export function formatUsd(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const fraction = abs % MICROS_PER_USD;
  // (abs - fraction) is a multiple of 10⁶, so this division is exact; abs / 10⁶ could round up.
  const whole = (abs - fraction) / MICROS_PER_USD;
  const decimals = String(fraction).padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${whole}.${decimals}`;
}
