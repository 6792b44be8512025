import { vi } from 'vitest';
import type { Logger } from '../../lib/core/logger.js';

/** A Logger whose calls are recorded (vi.fn) and printed nowhere. */
export function fakeLogger() {
  const logger = {
    debug: vi.fn(),
    info: vi.fn(),
    warn: vi.fn(),
    error: vi.fn(),
    audit: vi.fn(),
    child: vi.fn(),
  };
  logger.child.mockReturnValue(logger);
  return logger satisfies Logger;
}
