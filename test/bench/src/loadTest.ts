import http from 'node:http';

/** What a load test measured of one kind of request. */
export interface LoadResult {
  requests: number;
  errors: number;
  /** Requests per second. */
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? NaN
    : sorted[
        Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
      ];

/**
 * Sends requests from `concurrency` clients at once for `durationMs`, each client waiting for
 * its answer before sending the next, and measures every answer's latency.
 */
export async function loadTest(options: {
  baseUrl: string;
  path: () => string;
  token: string;
  concurrency: number;
  durationMs: number;
}): Promise<{ latencies: number[]; errors: number; elapsedMs: number }> {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.concurrency,
  });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const one = () =>
    new Promise<void>(resolve => {
      const sent = performance.now();
      const req = http.request(
        `${options.baseUrl}${options.path()}`,
        { agent, headers: { authorization: `Bearer ${options.token}` } },
        res => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - sent);
            if (res.statusCode !== 200) errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  agent.destroy();
  return { latencies, errors, elapsedMs: performance.now() - started };
}

/** Adds up runs of one kind of request. */
export function summarize(
  runs: Array<{ latencies: number[]; errors: number; elapsedMs: number }>,
): LoadResult {
  const latencies = runs.flatMap(r => r.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((sum, r) => sum + r.elapsedMs, 0);
  return {
    requests: latencies.length,
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    throughput: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}
