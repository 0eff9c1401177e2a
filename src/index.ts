/**
 * The package's entry point (`import { createWriter } from 'concord'`): the writer SDK, which producers use to
 * write what concord merges (README, "Writer SDK"). The processor itself runs as `concord run`.
 */
export { createWriter, type Writer, type WriteOp, type WriteReceipt } from './sdk/writer.ts'
export type { WriterOptions, WriterTopic } from './sdk/writer-options.ts'
export { entityPartition, murmur2 } from './wire/partitioner.ts'
export { ClockError, ConcordError, ConfigError, KafkaError, WriterError } from './errors.ts'
