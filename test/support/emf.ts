import { expect } from 'vitest';

/**
 * CloudWatch Embedded Metric Format, as CloudWatch Logs reads it: a log line whose `_aws`
 * holds a Timestamp and CloudWatchMetrics directives, each naming a namespace, dimension
 * sets (every dimension a string field at the root of the line) and metrics (every metric a
 * number, or a list of at most 100 numbers, at the root).
 */

/** The units CloudWatch accepts. */
const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What is wrong with `record` as an EMF record: an empty list when CloudWatch would extract its metrics. */
export function emfProblems(record: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const aws = record._aws;
  if (!isObject(aws)) return ['no _aws object'];
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp)) problems.push('_aws.Timestamp is not epoch milliseconds');
  else if (Math.abs(aws.Timestamp - Date.now()) > 60 * 60 * 1000) problems.push('_aws.Timestamp is not now');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...problems, '_aws.CloudWatchMetrics is not a non-empty list'];
  const seen = new Set<string>();
  for (const [i, directive] of directives.entries()) {
    const at = `CloudWatchMetrics[${i}]`;
    if (!isObject(directive)) {
      problems.push(`${at} is not an object`);
      continue;
    }
    if (
      typeof directive.Namespace !== 'string' ||
      !/^[\w./#: -]{1,255}$/.test(directive.Namespace) ||
      directive.Namespace.startsWith('AWS/')
    )
      problems.push(`${at}.Namespace is not a namespace of ours`);
    const sets = directive.Dimensions;
    if (!Array.isArray(sets)) problems.push(`${at}.Dimensions is not a list`);
    else {
      for (const set of sets) {
        if (!Array.isArray(set) || set.length > 30) {
          problems.push(`${at}.Dimensions holds ${JSON.stringify(set)}`);
          continue;
        }
        for (const name of set) {
          const value = typeof name === 'string' ? record[name] : undefined;
          if (typeof value !== 'string' || value.trim() === '' || value.length > 1024)
            problems.push(`${at}: dimension ${String(name)} is not a non-empty string field at the root`);
        }
      }
    }
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics) || metrics.length === 0 || metrics.length > 100) {
      problems.push(`${at}.Metrics is not a list of 1 to 100 metrics`);
      continue;
    }
    for (const metric of metrics) {
      if (!isObject(metric) || typeof metric.Name !== 'string' || metric.Name === '') {
        problems.push(`${at}.Metrics holds ${JSON.stringify(metric)}`);
        continue;
      }
      const name = metric.Name;
      if (seen.has(name)) problems.push(`metric ${name} is named twice`);
      seen.add(name);
      if (metric.Unit !== undefined && !UNITS.has(String(metric.Unit))) problems.push(`metric ${name}: unit ${String(metric.Unit)}`);
      const value = record[name];
      const numbers = Array.isArray(value) ? value : [value];
      if (numbers.length === 0 || numbers.length > 100 || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n)))
        problems.push(`metric ${name}: ${JSON.stringify(value)} is not a number or a list of 1 to 100 numbers`);
    }
  }
  return problems;
}

/** A record's metrics: namespace, values and the dimension sets each is published under (asserts it is valid EMF). */
export function metricsOf(record: Record<string, unknown>) {
  expect(emfProblems(record), JSON.stringify(record)).toEqual([]);
  const directives = (record._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] })
    .CloudWatchMetrics;
  const values: Record<string, number | number[]> = {};
  const dimensions: Record<string, string[][]> = {};
  const dimensionValues: Record<string, string> = {};
  for (const directive of directives) {
    for (const { Name } of directive.Metrics) {
      values[Name] = record[Name] as number | number[];
      dimensions[Name] = directive.Dimensions;
    }
    for (const name of directive.Dimensions.flat()) dimensionValues[name] = record[name] as string;
  }
  return { namespaces: [...new Set(directives.map((d) => d.Namespace))], values, dimensions, dimensionValues };
}

/** A record without what EMF adds to it (`_aws`, metric values, the `code` dimension): the log line as it was. */
export function withoutMetrics(record: Record<string, unknown>): Record<string, unknown> {
  if (!isObject(record._aws)) return record;
  const { values } = metricsOf(record);
  const copy: Record<string, unknown> = { ...record };
  delete copy._aws;
  for (const name of Object.keys(values)) delete copy[name];
  if (record.type === 'audit') delete copy.code;
  return copy;
}
