package dev.concord.bench.kstreams;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Reads one input record as concord's parseRecord does (src/processor/parse-record.ts) under the defaults
 * of an lww topic: suffixed keys split at the last "-", the write time from x-origin-ts, the event id from
 * x-event-id (else a SHA-1 of key and value), the loop rule of src/provenance/classify.ts.
 *
 * Not copied: the msgpack check of the value (concord's validateValues, on by default, scans each value's
 * structure). This job passes value bytes through without looking at them, as a Kafka Streams user whose
 * values are opaque would write it; only the value's size is checked. One instance per processor: the
 * decoder and digest are not thread-safe.
 */
final class RecordParser {
  sealed interface Parsed permits Version, Loop, Invalid {}

  /** A write to merge. `value` is null for a delete. */
  record Version(String entity, Wire.Stamp stamp, byte[] value) implements Parsed {}

  /** A remote topic carrying a local write: it came back round a replication loop; dropped. */
  record Loop() implements Parsed {}

  /** Breaks the contract: dead-lettered with this reason. */
  record Invalid(String reason) implements Parsed {}

  private static final Loop LOOP = new Loop();

  private final String localDc;
  /** The configured DCs, local first, as concord lists them in its reasons. */
  private final List<String> dcs;
  private final String dcList;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
  private final MessageDigest sha1;

  RecordParser(String localDc, List<String> dcs) {
    this.localDc = localDc;
    this.dcs = List.copyOf(dcs);
    this.dcList = String.join(", ", dcs);
    try {
      this.sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-1", e);
    }
  }

  /**
   * @param topic the input topic
   * @param sourceDc the DC whose writes `topic` carries: the local DC for `<topic>`, the peer for `<peer>.<topic>`
   */
  Parsed parse(byte[] keyBytes, byte[] value, Headers headers, String topic, String sourceDc) {
    try {
      return version(keyBytes, value, headers, topic, sourceDc);
    } catch (Wire.Invalid e) {
      return new Invalid(e.getMessage());
    }
  }

  private Parsed version(byte[] keyBytes, byte[] value, Headers headers, String topic, String sourceDc) throws Wire.Invalid {
    if (keyBytes == null) throw new Wire.Invalid("record has no key");
    String key;
    try {
      key = utf8.decode(ByteBuffer.wrap(keyBytes)).toString();
    } catch (CharacterCodingException e) {
      throw new Wire.Invalid("key is not valid UTF-8");
    }
    int at = key.lastIndexOf(Wire.KEY_SEPARATOR);
    if (at <= 0) throw new Wire.Invalid("key \"" + key + "\" has no \"" + Wire.KEY_SEPARATOR + "<dc>\" suffix");
    String keyDc = key.substring(at + Wire.KEY_SEPARATOR.length());
    if (!dcs.contains(keyDc)) throw new Wire.Invalid("key \"" + key + "\" ends in \"" + keyDc + "\", which is not a configured DC (" + dcList + ")");
    String entity = key.substring(0, at);

    String headerDc = header(headers, Wire.ORIGIN_DC);
    if (headerDc != null && !dcs.contains(headerDc)) {
      throw new Wire.Invalid(Wire.ORIGIN_DC + " \"" + headerDc + "\" is not a configured DC (" + dcList + ")");
    }
    if (headerDc != null && !headerDc.equals(keyDc)) {
      throw new Wire.Invalid(Wire.ORIGIN_DC + " \"" + headerDc + "\" disagrees with the key's DC suffix \"" + keyDc + "\"");
    }
    String writer = headerDc != null ? headerDc : keyDc;

    if (!writer.equals(sourceDc)) {
      if (writer.equals(localDc)) return LOOP;
      throw new Wire.Invalid("record on " + topic + " was written by " + writer + ", but this topic carries only writes of " + sourceDc);
    }

    if (value != null && value.length > Wire.MAX_VALUE_BYTES) {
      throw new Wire.Invalid("value of " + value.length + " bytes exceeds maxValueBytes (" + Wire.MAX_VALUE_BYTES + ")");
    }

    String ts = header(headers, Wire.ORIGIN_TS);
    if (ts == null) throw new Wire.Invalid("no " + Wire.ORIGIN_TS + " header");
    Wire.OriginTs time = Wire.parseOriginTs(ts);

    String eventId = header(headers, Wire.EVENT_ID);
    if (eventId == null) eventId = contentEventId(keyBytes, value);
    if (eventId.length() > Wire.MAX_EVENT_ID_BYTES / 3) {
      int bytes = eventId.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > Wire.MAX_EVENT_ID_BYTES) throw new Wire.Invalid(Wire.EVENT_ID + " of " + bytes + " bytes exceeds " + Wire.MAX_EVENT_ID_BYTES);
    }
    return new Version(entity, new Wire.Stamp(time.ts(), time.counter(), writer, eventId), value);
  }

  /** The first value of header `name` as UTF-8, or null when absent or null (concord's headerString). */
  private static String header(Headers headers, String name) {
    Iterator<Header> it = headers.headers(name).iterator();
    if (!it.hasNext()) return null;
    byte[] v = it.next().value();
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /** concord's contentEventId: the same write has the same bytes, hence the same id, in every DC. */
  private String contentEventId(byte[] key, byte[] value) {
    sha1.reset();
    sha1.update(key);
    if (value != null) sha1.update(value);
    return "sha1:" + HexFormat.of().formatHex(sha1.digest());
  }

  /** The source DC of each input topic: `<topic>` carries local writes, `<peer>.<topic>` the peer's. */
  static Map<String, String> sourceDcs(String topic, String localDc, List<String> peers) {
    Map<String, String> m = new HashMap<>();
    m.put(topic, localDc);
    for (String peer : peers) m.put(peer + "." + topic, peer);
    return Map.copyOf(m);
  }
}
