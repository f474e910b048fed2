import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (prom-client: the standard exposition format without hand-written text).
 * `processMetrics: false` (the Slack work thread): no process/Node default metrics, which the main thread
 * reports for the whole process; its counters are summed into the main thread's /metrics.
 */
export function createMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bwprep_' });
  return {
    registry,
    commands: new Counter({
      name: 'bwprep_commands_total',
      help: 'Commands handled, by command and outcome',
      labelNames: ['platform', 'command', 'outcome'],
      registers: [registry],
    }),
    actions: new Counter({
      name: 'bwprep_actions_total',
      help: 'Card interactions handled, by action and outcome',
      labelNames: ['platform', 'action', 'outcome'],
      registers: [registry],
    }),
    errors: new Counter({ name: 'bwprep_errors_total', help: 'Errors shown to users, by code', labelNames: ['code'], registers: [registry] }),
    checks: new Counter({
      name: 'bwprep_checks_total',
      help: 'Verification results, by step and status',
      labelNames: ['step', 'status'],
      registers: [registry],
    }),
    digests: new Counter({ name: 'bwprep_digests_total', help: 'Digests posted, by outcome', labelNames: ['outcome'], registers: [registry] }),
    handlerSeconds: new Histogram({
      name: 'bwprep_handler_seconds',
      help: 'Time from request to the end of its work (after the ack), by kind',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
      registers: [registry],
    }),
    workDropped: new Counter({
      name: 'bwprep_work_dropped_total',
      help: 'Work after an ack refused because its queue was full (the user was told to try again), by queue',
      labelNames: ['queue'],
      registers: [registry],
    }),
    workBacklog: new Gauge({
      name: 'bwprep_work_backlog',
      help: 'Work after an ack waiting for a free slot, by queue',
      labelNames: ['queue'],
      registers: [registry],
    }),
    cardRefreshes: new Gauge({
      name: 'bwprep_card_refreshes_in_flight',
      help: 'Rollouts whose card refresh is rendering or waiting its turn (serialized and paced per rollout); 0 when idle',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A WorkQueue observer (src/util/work-queue.ts) that feeds `bwprep_work_dropped_total` and `bwprep_work_backlog`. */
export function workQueueMetrics(metrics: Metrics, queue: string) {
  return {
    dropped: () => metrics.workDropped.inc({ queue }),
    backlog: (waiting: number) => metrics.workBacklog.set({ queue }, waiting),
  };
}
