interface Pending<T> {
  readonly items: readonly T[]
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

/**
 * Coalesces concurrent writes into few produce requests, one in flight at a time: the calls made in the same
 * tick, and those made while a request is in flight, go out together in the next request. Each call's promise
 * settles with the request that carried its records: resolved once the broker acknowledged them, rejected
 * with the request's error. Items keep the order of the calls that pushed them.
 */
export class SendQueue<T> {
  readonly #send: (items: readonly T[]) => Promise<void>
  #pending: Array<Pending<T>> = []
  #running: Promise<void> | undefined

  /** `send` gets the items of every call it carries, in call order, and resolves once all are acknowledged. */
  constructor (send: (items: readonly T[]) => Promise<void>) {
    this.#send = send
  }

  push (items: readonly T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject })
      // A microtask later, so that the calls of the current tick share the first request.
      this.#running ??= Promise.resolve().then(() => this.#run())
    })
  }

  /** Resolves once every record pushed so far is acknowledged or refused. */
  async drain (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #run (): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending
        this.#pending = []
        try {
          await this.#send(batch.flatMap(p => p.items))
          for (const p of batch) p.resolve()
        } catch (err) {
          for (const p of batch) p.reject(err)
        }
      }
    } finally {
      this.#running = undefined
    }
  }
}
