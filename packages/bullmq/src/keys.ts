/** Redis keys the runner keeps next to BullMQ's own, all under `fsm:<queue>:`. */
export class RedisKeys {
  constructor(private readonly queue: string) {}
  batch(batchId: string): string {
    return `fsm:${this.queue}:batch:${batchId}`;
  }
  members(batchId: string): string {
    return `fsm:${this.queue}:batch:${batchId}:members`;
  }
  results(batchId: string): string {
    return `fsm:${this.queue}:results:${batchId}`;
  }
  result(jobId: string): string {
    return `fsm:${this.queue}:result:${jobId}`;
  }
}
