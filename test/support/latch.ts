/**
 * A latch for holding one concurrent run at a point while another acts: `open()` once, and
 * every `wait` resolves (Promise.withResolvers, which Node 20 lacks).
 * @module
 */

/** A promise and the function that resolves it. */
export interface Latch {
  wait: Promise<void>;
  open(): void;
}

/** A closed latch. */
export function latch(): Latch {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}
