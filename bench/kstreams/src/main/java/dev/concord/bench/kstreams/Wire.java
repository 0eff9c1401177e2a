package dev.concord.bench.kstreams;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * concord's wire contract (src/wire/contract.ts), the part the lww job reads and writes: header names, the
 * key and timestamp formats, the dead-letter headers and the limits. Reasons are worded as concord words them.
 */
final class Wire {
  private Wire() {}

  static final String ORIGIN_DC = "x-origin-dc";
  static final String ORIGIN_TS = "x-origin-ts";
  static final String EVENT_ID = "x-event-id";
  static final String MERGED_BY = "x-merged-by";

  /** Dead-letter headers, after Kafka Connect's errors.deadletterqueue.context.headers.enable. */
  static final String DLQ_TOPIC = "__connect.errors.topic";
  static final String DLQ_PARTITION = "__connect.errors.partition";
  static final String DLQ_OFFSET = "__connect.errors.offset";
  static final String DLQ_EXCEPTION_CLASS = "__connect.errors.exception.class.name";
  static final String DLQ_MESSAGE = "__connect.errors.exception.message";
  static final String DLQ_STAGE = "__connect.errors.stage";
  static final String DLQ_DC = "__concord.errors.dc";
  /** The class name concord puts on its dead letters (src/errors.ts RecordError). */
  static final String RECORD_ERROR = "RecordError";

  /** Keys are `<entity><sep><dc>`, split at the last separator (concord's default keyFormat: suffixed). */
  static final String KEY_SEPARATOR = "-";
  /** Longest accepted x-event-id, in UTF-8 bytes. */
  static final int MAX_EVENT_ID_BYTES = 1024;
  /** concord's default maxValueBytes. */
  static final int MAX_VALUE_BYTES = 1_000_000;

  /** `<ms>[:<counter>]`, non-negative integers without signs or leading zeros, each at most 2^53 - 1. */
  private static final Pattern TS_FORM = Pattern.compile("(0|[1-9]\\d{0,15})(?::(0|[1-9]\\d{0,15}))?");
  private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  /**
   * A write's stamp, ordered as concord orders stamps (src/model/stamp.ts): (ts, counter, dc, eventId),
   * numbers numerically, strings by UTF-8 byte order.
   */
  record Stamp(long ts, long counter, String dc, String eventId) implements Comparable<Stamp> {
    @Override
    public int compareTo(Stamp o) {
      if(ts != o.ts) return ts < o.ts ? -1 : 1;
      if(counter != o.counter) return counter < o.counter ? -1 : 1;
      int d = compareUtf8(dc, o.dc);
      return d != 0 ? d : compareUtf8(eventId, o.eventId);
    }

    /** The x-origin-ts form: the counter is omitted when 0. */
    String formatTs() {
      return counter == 0 ? Long.toString(ts) : ts + ":" + counter;
    }
  }

  /** By Unicode code point, which is UTF-8 byte order (String.compareTo is UTF-16 unit order). */
  static int compareUtf8(String a, String b) {
    if(a.equals(b)) return 0;
    int n = Math.min(a.length(), b.length());
    for(int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if(x == y) continue;
      // UTF-16 order differs from code point order only between a surrogate and a unit in U+E000..U+FFFF.
      boolean xs = Character.isSurrogate(x);
      boolean ys = Character.isSurrogate(y);
      if(xs != ys) return xs ? 1 : -1;
      return x - y;
    }
    return a.length() - b.length();
  }

  /** A record that breaks the contract; the message is the reason. Cheap: no stack trace, made only for bad records. */
  static final class Invalid extends Exception {
    Invalid(String reason) {
      super(reason, null, false, false);
    }
  }

  record OriginTs(long ts, long counter) {}

  static OriginTs parseOriginTs(String text) throws Invalid {
    Matcher m = TS_FORM.matcher(text);
    if(!m.matches()) {
      throw new Invalid("timestamp \"" + text.substring(0, Math.min(64, text.length())) + "\" is not <milliseconds>[:<counter>]");
    }
    long ts = Long.parseLong(m.group(1));
    long counter = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
    if(ts > MAX_SAFE_INTEGER || counter > MAX_SAFE_INTEGER) throw new Invalid("timestamp \"" + text + "\" is out of range");
    return new OriginTs(ts, counter);
  }
}
