package dev.concord.bench.kstreams;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the app reports on stdout, one JSON object a line, for bench/kstreams.ts:
 *
 *   {"event":"state","state":"RUNNING"}                          each KafkaStreams state change
 *   {"event":"progress","processed":n}                           every 100 ms while the count moves
 *   {"event":"done","processed":N,"firstWallMs":..,"lastWallMs":..,"seconds":..,"applied":..,
 *    "stale":..,"duplicate":..,"loop":..,"deadLettered":..,"merged":..}
 *                                                                once, when the count reaches the expected N
 *   {"event":"error","message":".."}                             a stream thread died
 *   {"event":"closed"}                                           KafkaStreams closed (after SIGTERM)
 *
 * `processed` counts the input records handed to the lww processor's process(), each one once whatever its
 * outcome (applied, stale, duplicate, loop, dead-lettered). The first record's time is taken as process()
 * starts on it, the last as process() returns from the Nth: JVM start, the group join, store creation and the
 * first fetch come before it, and the final commit after (under exactly_once_v2 the output of the last
 * records becomes visible at the next commit, at most commit.interval.ms = 100 ms later). `seconds` is
 * measured with System.nanoTime. A task that is re-run after a failure would count its records again; the
 * driver runs one instance on a fresh application.id, where that does not happen.
 */
final class Progress {
  private final PrintStream out;
  private final long expected;
  final AtomicLong processed = new AtomicLong();
  long applied;
  long stale;
  long duplicate;
  long loop;
  long deadLettered;
  long merged;
  private volatile long firstWallMs;
  private long firstNanos;

  Progress(PrintStream out, long expected) {
    this.out = out;
    this.expected = expected;
  }

  /** Called by the stream thread as each record enters process(). */
  void started() {
    if (firstWallMs == 0) {
      firstNanos = System.nanoTime();
      firstWallMs = System.currentTimeMillis();
    }
  }

  /** Called by the stream thread as each record leaves process(). */
  void processed() {
    if (processed.incrementAndGet() != expected) return;
    double seconds = (System.nanoTime() - firstNanos) / 1e9;
    line("{\"event\":\"done\",\"processed\":" + expected + ",\"firstWallMs\":" + firstWallMs + ",\"lastWallMs\":"
        + System.currentTimeMillis() + ",\"seconds\":" + seconds + ",\"applied\":" + applied + ",\"stale\":" + stale
        + ",\"duplicate\":" + duplicate + ",\"loop\":" + loop + ",\"deadLettered\":" + deadLettered + ",\"merged\":" + merged + "}");
  }

  void line(String json) {
    synchronized (out) {
      out.println(json);
      out.flush();
    }
  }

  void event(String name) {
    line("{\"event\":\"" + name + "\"}");
  }

  void event(String name, String field, String text) {
    line("{\"event\":\"" + name + "\",\"" + field + "\":\"" + jsonEscape(text) + "\"}");
  }

  static String jsonEscape(String s) {
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.toString();
  }
}
