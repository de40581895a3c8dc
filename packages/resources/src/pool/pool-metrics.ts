/** What a pool has done so far; read with `pool.metrics()` or as gauges. */
export interface PoolMetrics {
  created: number;
  destroyed: number;
  inUse: number;
  idle: number;
  waiting: number;
  acquisitions: number;
  releases: number;
  /** Mean and max time `acquire` waited, in milliseconds. */
  avgAcquireMs: number;
  maxAcquireMs: number;
  /** Acquires that gave up with RESOURCE_TIMEOUT, and when the last one did (epoch ms). */
  timeouts: number;
  lastTimeoutAt: number | undefined;
  /** Handle creations, validations or destroys that failed, and the message of the last one. */
  failures: number;
  lastFailure: string | undefined;
}

/** An OpenTelemetry-friendly reading: a metric name, a value and its attributes. */
export interface Gauge {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

export class PoolCounters {
  created = 0;
  destroyed = 0;
  acquisitions = 0;
  releases = 0;
  timeouts = 0;
  lastTimeoutAt: number | undefined;
  failures = 0;
  lastFailure: string | undefined;
  private acquireTotalMs = 0;
  private acquireMaxMs = 0;

  recordAcquire(ms: number): void {
    this.acquisitions++;
    this.acquireTotalMs += ms;
    if (ms > this.acquireMaxMs) this.acquireMaxMs = ms;
  }

  recordFailure(error: unknown): void {
    this.failures++;
    this.lastFailure = error instanceof Error ? error.message : String(error);
  }

  recordTimeout(): void {
    this.timeouts++;
    this.lastTimeoutAt = Date.now();
  }

  snapshot(inUse: number, idle: number, waiting: number): PoolMetrics {
    return {
      created: this.created,
      destroyed: this.destroyed,
      inUse,
      idle,
      waiting,
      acquisitions: this.acquisitions,
      releases: this.releases,
      avgAcquireMs: this.acquisitions === 0 ? 0 : this.acquireTotalMs / this.acquisitions,
      maxAcquireMs: this.acquireMaxMs,
      timeouts: this.timeouts,
      lastTimeoutAt: this.lastTimeoutAt,
      failures: this.failures,
      lastFailure: this.lastFailure,
    };
  }
}

/** Pool metrics as gauges named `fsm.resource.pool.<metric>` with a `resource` attribute. */
export function toGauges(resource: string, metrics: PoolMetrics): Gauge[] {
  const gauges: Gauge[] = [];
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value !== 'number') continue;
    const name = `fsm.resource.pool.${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
    gauges.push({ name, value, attributes: { resource } });
  }
  return gauges;
}
