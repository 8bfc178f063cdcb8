// Serves the backend's OpenTelemetry metrics for Prometheus to scrape, only when asked:
// `PROMETHEUS_METRICS_PORT=9464 yarn start`. Loaded before the backend with `--require`, so that
// every plugin's meter reports to it.
const { isMainThread } = require('node:worker_threads');

const port = process.env.PROMETHEUS_METRICS_PORT;
// Node runs `--require` in the threads of module hooks too (`yarn start` has some): only the
// backend's own thread serves its metrics.
if (port && isMainThread) {
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new Error(
      `PROMETHEUS_METRICS_PORT must be a port number, not "${port}"`,
    );
  }
  const { metrics } = require('@opentelemetry/api');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [new PrometheusExporter({ port: Number(port) })],
    }),
  );
}
