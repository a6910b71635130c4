/**
 * The partition count of each source topic (predictions.<model>), looked up once and cached: a
 * window counts as complete only when every partition of its source topic has passed it
 * (windows.ts, rule 1), not just the partitions seen so far. Kafka only ever adds partitions, so
 * a cached count goes stale only upwards: a sketch naming a partition beyond it refreshes it.
 * Pure apart from the injected lookup.
 */

/** The topic's partition count, or undefined when the topic does not exist (any longer). */
export type PartitionCountLookup = (topic: string) => Promise<number | undefined>;

export interface SourcePartitionsOptions {
  now: () => number;
  /** A topic the cluster did not know is looked up again after this long (default 60 s). */
  unknownTtlMs?: number;
}

export class SourcePartitions {
  private readonly counts = new Map<string, number>();
  /** Topic → when the cluster last said it does not exist. */
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly lookup: PartitionCountLookup,
    private readonly options: SourcePartitionsOptions,
  ) {}

  /**
   * The partition count of `topic`, refreshed when `partition` lies beyond the cached count;
   * undefined when the topic is unknown to the cluster (then only the partitions seen count).
   */
  async count(topic: string, partition: number): Promise<number | undefined> {
    const cached = this.counts.get(topic);
    if (cached !== undefined && partition < cached) return cached;
    const unknownSince = this.unknown.get(topic);
    if (
      cached === undefined &&
      unknownSince !== undefined &&
      this.options.now() - unknownSince < (this.options.unknownTtlMs ?? 60_000)
    ) {
      return undefined;
    }
    const fetched = await this.lookup(topic);
    if (fetched === undefined) {
      this.unknown.set(topic, this.options.now());
      return cached;
    }
    this.unknown.delete(topic);
    const count = Math.max(fetched, cached ?? 0);
    this.counts.set(topic, count);
    return count;
  }
}
