import type { KafkaProducer } from '../kafka/producer.ts'
import type { OutboxRecord, StateStore } from '../store/state-store.ts'

/**
 * Sends committed outbox records to Kafka in seq order and forgets them once acknowledged. One flush at a
 * time: a second caller waits for the running flush and then flushes what is left, so records never overtake
 * each other. After a crash the unacknowledged records are sent again: a repeat of a changelog record is
 * harmless, and the order keeps the last record per entity the newest.
 */
export class OutboxFlusher {
  readonly #store: StateStore
  readonly #producer: KafkaProducer
  readonly #chunk: number
  readonly #onSent: (records: readonly OutboxRecord[]) => void
  #running: Promise<number> = Promise.resolve(0)

  /**
   * `onSent` sees each run of records once Kafka acknowledged it; `chunk` is the number of outbox rows
   * (up to 1,000 records each) sent per produce call (the producer splits a call under Kafka's size limit).
   */
  constructor (store: StateStore, producer: KafkaProducer, onSent: (records: readonly OutboxRecord[]) => void = () => {}, chunk = 8) {
    this.#store = store
    this.#producer = producer
    this.#onSent = onSent
    this.#chunk = chunk
  }

  /** Resolves with the number of records sent, once every record committed before the call is acknowledged. */
  flush (): Promise<number> {
    const next = this.#running.then(() => this.#drain(), () => this.#drain())
    this.#running = next
    return next
  }

  async #drain (): Promise<number> {
    let sent = 0
    for (;;) {
      const batches = this.#store.pending(0, this.#chunk)
      if (batches.length === 0) return sent
      const records = batches.flatMap(b => b.records)
      await this.#producer.send(records)
      this.#store.acknowledge(batches[batches.length - 1]!.seq)
      this.#onSent(records)
      sent += records.length
    }
  }
}
