/**
 * How the rate tests read a vendor's side of a limit: the most calls that fall in any window,
 * by when the simulator received them (a sliding window, not calendar seconds).
 * @module
 */

/** The most of `times` (epoch ms) that fall in any window of `windowMs`. */
export function busiestWindow(times: readonly number[], windowMs = 1_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}
