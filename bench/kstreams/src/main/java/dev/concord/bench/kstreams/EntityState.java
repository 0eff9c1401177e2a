package dev.concord.bench.kstreams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one entity under lww (concord's src/merge/sibling-state.ts): the latest version per writer
 * DC, deletes (null values) included. Absorbing keeps, per DC, the version with the greater stamp, a join on
 * a semilattice, so redelivery and reordering are harmless. The merged value is the sibling with the greatest
 * stamp; when that is a delete the entity is deleted. Under concord's default deleteRule (lww) this is what
 * its tombstone bookkeeping resolves to: a DC's slot always holds a stamp at least that of any delete it made.
 *
 * Stored bytes, big-endian: u8 count, then per sibling: u16 dc length, dc (UTF-8), i64 ts, i64 counter,
 * u16 event id length, event id (UTF-8), i32 value length (-1 for a delete), value.
 */
final class EntityState {
  record Sibling(Wire.Stamp stamp, byte[] value) {}

  enum Outcome { APPLIED, STALE, DUPLICATE }

  private final List<Sibling> siblings;

  private EntityState(List<Sibling> siblings) {
    this.siblings = siblings;
  }

  static EntityState empty() {
    return new EntityState(new ArrayList<>(2));
  }

  /** The sibling with the greatest stamp, or null when there is none. */
  Sibling winner() {
    Sibling best = null;
    for (Sibling s : siblings) if (best == null || s.stamp().compareTo(best.stamp()) > 0) best = s;
    return best;
  }

  /**
   * Absorbs a write. Nothing changes when its DC's slot already holds it (the same stamp: a duplicate) or a
   * newer version (stale).
   */
  Outcome absorb(Wire.Stamp stamp, byte[] value) {
    for (int i = 0; i < siblings.size(); i++) {
      Sibling current = siblings.get(i);
      if (!current.stamp().dc().equals(stamp.dc())) continue;
      int order = stamp.compareTo(current.stamp());
      if (order == 0) return Outcome.DUPLICATE;
      if (order < 0) return Outcome.STALE;
      siblings.set(i, new Sibling(stamp, value));
      return Outcome.APPLIED;
    }
    siblings.add(new Sibling(stamp, value));
    return Outcome.APPLIED;
  }

  byte[] encode() {
    int size = 1;
    List<byte[]> text = new ArrayList<>(siblings.size() * 2);
    for (Sibling s : siblings) {
      byte[] dc = s.stamp().dc().getBytes(StandardCharsets.UTF_8);
      byte[] id = s.stamp().eventId().getBytes(StandardCharsets.UTF_8);
      text.add(dc);
      text.add(id);
      size += 2 + dc.length + 16 + 2 + id.length + 4 + (s.value() == null ? 0 : s.value().length);
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put((byte) siblings.size());
    for (int i = 0; i < siblings.size(); i++) {
      Sibling s = siblings.get(i);
      byte[] dc = text.get(2 * i);
      byte[] id = text.get(2 * i + 1);
      b.putShort((short) dc.length).put(dc);
      b.putLong(s.stamp().ts()).putLong(s.stamp().counter());
      b.putShort((short) id.length).put(id);
      if (s.value() == null) {
        b.putInt(-1);
      } else {
        b.putInt(s.value().length).put(s.value());
      }
    }
    return b.array();
  }

  static EntityState decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int n = Byte.toUnsignedInt(b.get());
    List<Sibling> siblings = new ArrayList<>(Math.max(2, n));
    for (int i = 0; i < n; i++) {
      String dc = text(b);
      long ts = b.getLong();
      long counter = b.getLong();
      String id = text(b);
      int length = b.getInt();
      byte[] value = null;
      if (length >= 0) {
        value = new byte[length];
        b.get(value);
      }
      siblings.add(new Sibling(new Wire.Stamp(ts, counter, dc, id), value));
    }
    return new EntityState(siblings);
  }

  private static String text(ByteBuffer b) {
    byte[] t = new byte[Short.toUnsignedInt(b.getShort())];
    b.get(t);
    return new String(t, StandardCharsets.UTF_8);
  }
}
