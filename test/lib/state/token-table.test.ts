import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { causeOf, resetTable, TABLE_REST_MS, tableFailed, tableWorked, usableTable } from '../../../lib/state/token-table.js';
import { fakeLogger } from '../../support/fake-logger.js';

const awsError = (name: string) => Object.assign(new Error('failed'), { name, $metadata: {} });

describe('living with the table failing', () => {
  beforeEach(() => {
    process.env.TOKEN_TABLE = 'unit-tokens';
    resetTable();
  });
  afterEach(() => {
    delete process.env.TOKEN_TABLE;
    resetTable();
  });

  it('no table configured: memory only', () => {
    delete process.env.TOKEN_TABLE;
    expect(usableTable()).toBeUndefined();
  });

  it('after a failure the table rests TABLE_REST_MS, then is tried again', () => {
    expect(usableTable()).toBe('unit-tokens');
    tableFailed(awsError('ThrottlingException'), fakeLogger(), 'read token');
    expect(usableTable()).toBeUndefined();
    expect(usableTable(Date.now() + TABLE_REST_MS + 1)).toBe('unit-tokens');
  });

  it('warns once per cause until the table works again', () => {
    const logger = fakeLogger();
    for (let i = 0; i < 5; i++) tableFailed(awsError('ThrottlingException'), logger, 'read token');
    tableFailed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), logger, 'take lease');
    tableFailed(awsError('ThrottlingException'), logger, 'write token');
    expect(logger.warn.mock.calls.map(([, fields]) => (fields as { cause: string }).cause)).toEqual([
      'ThrottlingException',
      'ECONNREFUSED',
    ]);
    tableWorked(logger);
    tableWorked(logger);
    expect(logger.info).toHaveBeenCalledTimes(1);
    tableFailed(awsError('ThrottlingException'), logger, 'read token');
    expect(logger.warn).toHaveBeenCalledTimes(3);
  });

  it('names causes by network code, else by exception name', () => {
    expect(causeOf(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('ETIMEDOUT');
    expect(causeOf(awsError('ResourceNotFoundException'))).toBe('ResourceNotFoundException');
    expect(causeOf('string')).toBe('Error');
  });
});
