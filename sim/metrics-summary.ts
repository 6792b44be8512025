/**
 * The metrics of a local run, summed from the EMF lines the functions print (lib/core/metrics.ts)
 * the way CloudWatch would read them: each line's `_aws.CloudWatchMetrics` names the metrics
 * and their dimensions, the values are at the root. `npm start` feeds it every output line
 * and prints `render()` on Ctrl-C and on SIGUSR2.
 * @module
 */

interface Series {
  unit: string;
  sum: number;
  samples: number[];
}

interface PerOperation {
  metrics: Map<string, Series>;
  /** Requests by their `code` dimension. */
  codes: Map<string, number>;
}

/** A running summary of metric lines. */
export interface MetricsSummary {
  /** One output line; anything that is not an EMF record is ignored. True when it was one. */
  add(line: string): boolean;
  /** How many EMF records were read. */
  readonly records: number;
  /** The sum of a metric over every operation (0 when never seen). */
  total(metric: string): number;
  /** A few lines for a terminal. */
  render(): string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const UNIT_SUFFIX: Record<string, string> = { Milliseconds: ' ms', Seconds: ' s', Percent: ' %' };

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 10) / 10);

/** Words joined with `, `, wrapped into lines no longer than `width` after `indent`. */
function wrap(words: string[], indent: string, width = 110): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    const next = current === '' ? word : `${current}, ${word}`;
    if (current !== '' && indent.length + next.length > width) {
      lines.push(`${indent}${current},`);
      current = word;
    } else current = next;
  }
  if (current !== '') lines.push(`${indent}${current}`);
  return lines;
}

export function createMetricsSummary(): MetricsSummary {
  const operations = new Map<string, PerOperation>();
  let records = 0;

  const operation = (name: string): PerOperation => {
    let entry = operations.get(name);
    if (!entry) {
      entry = { metrics: new Map(), codes: new Map() };
      operations.set(name, entry);
    }
    return entry;
  };

  function add(line: string): boolean {
    const start = line.indexOf('{"');
    if (start < 0 || !line.includes('"_aws"')) return false;
    let record: unknown;
    try {
      record = JSON.parse(line.slice(start));
    } catch {
      return false;
    }
    if (!isObject(record) || !isObject(record._aws) || !Array.isArray(record._aws.CloudWatchMetrics)) return false;
    records += 1;
    const seen = new Set<string>();
    for (const directive of record._aws.CloudWatchMetrics) {
      if (!isObject(directive) || !Array.isArray(directive.Metrics) || !Array.isArray(directive.Dimensions)) continue;
      const dimensions = new Set((directive.Dimensions as unknown[]).flat().filter((d): d is string => typeof d === 'string'));
      const name = typeof record.operation === 'string' && dimensions.has('operation') ? record.operation : '(no operation)';
      const entry = operation(name);
      for (const metric of directive.Metrics) {
        if (!isObject(metric) || typeof metric.Name !== 'string' || seen.has(metric.Name)) continue;
        seen.add(metric.Name);
        const raw = record[metric.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (values.length === 0) continue;
        let series = entry.metrics.get(metric.Name);
        if (!series) {
          series = { unit: typeof metric.Unit === 'string' ? metric.Unit : 'None', sum: 0, samples: [] };
          entry.metrics.set(metric.Name, series);
        }
        for (const value of values) {
          series.sum += value;
          series.samples.push(value);
        }
        if (metric.Name === 'Requests' && dimensions.has('code') && typeof record.code === 'string') {
          entry.codes.set(record.code, (entry.codes.get(record.code) ?? 0) + values.reduce((a, b) => a + b, 0));
        }
      }
    }
    return true;
  }

  function total(metric: string): number {
    let sum = 0;
    for (const entry of operations.values()) sum += entry.metrics.get(metric)?.sum ?? 0;
    return sum;
  }

  function render(): string {
    if (records === 0) return 'metrics of this run: none yet (no function has written a metric line)';
    const out = [`metrics of this run, from ${records} EMF line${records === 1 ? '' : 's'} the functions printed:`];
    for (const [name, entry] of [...operations].sort(([a], [b]) => a.localeCompare(b))) {
      const requests = entry.metrics.get('Requests')?.sum ?? 0;
      const codes = [...entry.codes].sort(([, a], [, b]) => b - a).map(([code, n]) => `${code} ${n}`);
      out.push(`  ${name}: ${requests} request${requests === 1 ? '' : 's'}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`);
      const counts: string[] = [];
      const distributions: string[] = [];
      for (const [metric, series] of entry.metrics) {
        if (metric === 'Requests') continue;
        if (series.unit === 'Count') {
          if (series.sum !== 0) counts.push(`${metric} ${round(series.sum)}`);
          continue;
        }
        const sorted = [...series.samples].sort((a, b) => a - b);
        const suffix = UNIT_SUFFIX[series.unit] ?? '';
        const stats = [`min ${round(sorted[0]!)}`, `p50 ${round(percentile(sorted, 50))}`, `p99 ${round(percentile(sorted, 99))}`];
        distributions.push(`${metric} ${stats.join(' / ')}${suffix} (${sorted.length})`);
      }
      out.push(...wrap(counts, '    '), ...wrap(distributions, '    '));
    }
    return out.join('\n');
  }

  return {
    add,
    get records() {
      return records;
    },
    total,
    render,
  };
}
