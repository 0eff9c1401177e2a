/*
 * A Java Kafka client for the interop tests (test/integration/compression.itest.ts): the reference
 * implementation that concord's kafkajs-based consumer and producer must agree with, byte for byte.
 *
 * Run with Java 17's single-file source launcher on the lab's jars (kafka-clients with snappy-java, lz4-java
 * and zstd-jni, fetched by lab/jars.ts), no build step:
 *
 *   java -cp '.cache/kafka/libs/*' test/integration/java/Interop.java produce <bootstrap> <topic> <partition>
 *     reads records from stdin, one per line: <compression.type> TAB <key> TAB <value> [TAB <header> TAB <value>]...
 *     and writes them to the partition with one producer per compression type (so each batch has one codec),
 *     in line order per type, acks=all; exits 0 once every record is acknowledged.
 *
 *   java -cp '.cache/kafka/libs/*' test/integration/java/Interop.java consume <bootstrap> <topic> <partition> <from>
 *     prints the partition's records from <from> (an offset, or @<epoch ms> for the first record with a timestamp
 *     at or after it) up to its end offset when the command started, one per line:
 *     <offset> TAB <key> TAB <value> [TAB <header> TAB <value>]...
 *
 * Every key, value, header name and header value is base64 (standard alphabet); '-' stands for null.
 * Launched a handful of times per test run, not per record: the source launcher compiles on each start.
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Interop {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  public static void main(String[] args) throws Exception {
    if (args.length == 4 && args[0].equals("produce")) {
      produce(args[1], args[2], Integer.parseInt(args[3]));
    } else if (args.length == 5 && args[0].equals("consume")) {
      consume(args[1], new TopicPartition(args[2], Integer.parseInt(args[3])), args[4]);
    } else {
      System.err.println("usage: Interop produce <bootstrap> <topic> <partition> < records"
          + "\n       Interop consume <bootstrap> <topic> <partition> <offset|@epoch-ms>");
      System.exit(2);
    }
  }

  static void produce(String bootstrap, String topic, int partition) throws Exception {
    Map<String, KafkaProducer<byte[], byte[]>> producers = new HashMap<>();
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isEmpty()) continue;
      String[] f = line.split("\t", -1);
      if (f.length < 3 || f.length % 2 == 0) throw new IllegalArgumentException("bad record line: " + line);
      ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partition, decode(f[1]), decode(f[2]));
      for (int i = 3; i < f.length; i += 2) {
        record.headers().add(new String(decode(f[i]), StandardCharsets.UTF_8), decode(f[i + 1]));
      }
      acks.add(producers.computeIfAbsent(f[0], codec -> producer(bootstrap, codec)).send(record));
    }
    for (KafkaProducer<byte[], byte[]> p : producers.values()) p.flush();
    for (Future<RecordMetadata> ack : acks) ack.get();
    for (KafkaProducer<byte[], byte[]> p : producers.values()) p.close(TIMEOUT);
  }

  static KafkaProducer<byte[], byte[]> producer(String bootstrap, String compression) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("compression.type", compression);
    p.put("acks", "all");
    // Gather a type's records into one batch: the point is a compressed batch of several records.
    p.put("linger.ms", "50");
    p.put("batch.size", "1000000");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static void consume(String bootstrap, TopicPartition tp, String from) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), TIMEOUT).get(tp);
      long start = end;
      if (from.startsWith("@")) {
        OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, Long.parseLong(from.substring(1))), TIMEOUT).get(tp);
        if (found != null) start = found.offset();
      } else {
        start = Long.parseLong(from);
      }
      consumer.seek(tp, start);
      StringBuilder out = new StringBuilder();
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (consumer.position(tp, TIMEOUT) < end) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("timed out reading " + tp + " up to offset " + end);
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end) continue;
          out.append(r.offset()).append('\t').append(encode(r.key())).append('\t').append(encode(r.value()));
          for (Header h : r.headers()) {
            out.append('\t').append(encode(h.key().getBytes(StandardCharsets.UTF_8))).append('\t').append(encode(h.value()));
          }
          out.append('\n');
        }
      }
      System.out.print(out);
      System.out.flush();
    }
  }

  static byte[] decode(String field) {
    return field.equals("-") ? null : Base64.getDecoder().decode(field);
  }

  static String encode(byte[] bytes) {
    return bytes == null ? "-" : Base64.getEncoder().encodeToString(bytes);
  }
}
