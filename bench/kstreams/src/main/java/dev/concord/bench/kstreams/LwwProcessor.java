package dev.concord.bench.kstreams;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * concord's lww job as a Kafka Streams processor, one instance per task (input partition). Each record is
 * parsed against the wire contract (RecordParser): a loop is dropped, a record that breaks the contract goes
 * to the dead-letter sink with concord's Connect-style headers, and a write is absorbed into its entity's
 * state in the store. When the write becomes the entity's winner (the greatest stamp), the merged output
 * changed and the merged record is forwarded: key = entity id, value = the winner's bytes untouched (null for
 * a delete), headers = the winner's x-origin-* and x-merged-by. A stale or duplicate write changes nothing
 * and emits nothing.
 *
 * Not copied from concord: its conflict feed, garbage collection of deleted entities and the too-late rule
 * that goes with it (writes more than gcGraceMs, 7 days, behind their DC's watermark); the benchmark's
 * writes never trip it. concord emits once per entity per consumed batch; this emits per changing record.
 */
final class LwwProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  static final String STORE = "lww-state";
  static final String MERGED_SINK = "merged";
  static final String DLQ_SINK = "dlq";

  private final Map<String, String> sourceDcs;
  private final RecordParser parser;
  private final Progress progress;
  private final byte[] localDcBytes;
  private ProcessorContext<byte[], byte[]> context;
  private KeyValueStore<String, byte[]> store;

  LwwProcessor(String localDc, List<String> dcs, Map<String, String> sourceDcs, Progress progress) {
    this.sourceDcs = sourceDcs;
    this.parser = new RecordParser(localDc, dcs);
    this.progress = progress;
    this.localDcBytes = localDc.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    progress.started();
    try {
      handle(record);
    } finally {
      progress.processed();
    }
  }

  private void handle(Record<byte[], byte[]> record) {
    RecordMetadata meta = context.recordMetadata().orElseThrow();
    String sourceDc = sourceDcs.get(meta.topic());
    RecordParser.Parsed parsed = parser.parse(record.key(), record.value(), record.headers(), meta.topic(), sourceDc);
    if (parsed instanceof RecordParser.Loop) {
      progress.loop++;
      return;
    }
    if (parsed instanceof RecordParser.Invalid invalid) {
      progress.deadLettered++;
      context.forward(record.withHeaders(deadLetterHeaders(record.headers(), meta, invalid.reason())), DLQ_SINK);
      return;
    }
    RecordParser.Version v = (RecordParser.Version) parsed;
    byte[] stored = store.get(v.entity());
    EntityState state = stored == null ? EntityState.empty() : EntityState.decode(stored);
    EntityState.Sibling before = state.winner();
    switch (state.absorb(v.stamp(), v.value())) {
      case DUPLICATE -> {
        progress.duplicate++;
        return;
      }
      case STALE -> {
        progress.stale++;
        return;
      }
      case APPLIED -> progress.applied++;
    }
    store.put(v.entity(), state.encode());
    // The winner is the greatest stamp and only this write's slot moved: the output changed iff it won.
    if (before != null && v.stamp().compareTo(before.stamp()) <= 0) return;
    progress.merged++;
    context.forward(new Record<>(v.entity().getBytes(StandardCharsets.UTF_8), v.value(), record.timestamp(), mergedHeaders(v.stamp())), MERGED_SINK);
  }

  private Headers mergedHeaders(Wire.Stamp s) {
    RecordHeaders h = new RecordHeaders();
    h.add(Wire.ORIGIN_DC, s.dc().getBytes(StandardCharsets.UTF_8));
    h.add(Wire.ORIGIN_TS, s.formatTs().getBytes(StandardCharsets.UTF_8));
    h.add(Wire.EVENT_ID, s.eventId().getBytes(StandardCharsets.UTF_8));
    h.add(Wire.MERGED_BY, localDcBytes);
    return h;
  }

  /** The record's own headers, then where it was read and why it was refused (concord's deadLetter). */
  private Headers deadLetterHeaders(Headers original, RecordMetadata meta, String reason) {
    RecordHeaders h = new RecordHeaders(original.toArray());
    h.add(Wire.DLQ_TOPIC, utf8(meta.topic()));
    h.add(Wire.DLQ_PARTITION, utf8(Integer.toString(meta.partition())));
    h.add(Wire.DLQ_OFFSET, utf8(Long.toString(meta.offset())));
    h.add(Wire.DLQ_EXCEPTION_CLASS, utf8(Wire.RECORD_ERROR));
    h.add(Wire.DLQ_MESSAGE, utf8(reason));
    h.add(Wire.DLQ_STAGE, utf8("parse"));
    h.add(Wire.DLQ_DC, localDcBytes);
    return h;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
