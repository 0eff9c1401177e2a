package dev.concord.bench.kstreams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams baseline: concord's lww job on one DC's two input topics, `<topic>` (the local DC's
 * writes) and `<peer>.<topic>` (each peer's, as MirrorMaker 2 copies them), into `<topic>.merged` and
 * `<topic>.dlq`. Configured the way the Kafka Streams docs suggest: every setting at its default but the
 * processing guarantee and one stream thread (exactly_once_v2 then commits every 100 ms, at_least_once every
 * 30 s). The output topics must exist (Kafka Streams creates only its internal topics: here the store's
 * changelog); both inputs must have the same partition count, as the bench producer partitions them alike
 * by entity id, so that partition p of each is one task and an entity's versions meet in one store.
 *
 * Usage: java -cp '<libs>/*:<classes>' dev.concord.bench.kstreams.Main --bootstrap host:port --topic name
 *   --guarantee at_least_once|exactly_once_v2 --state-dir dir --expect N [--app-id id] [--dc dc1] [--peers dc2]
 */
public final class Main {
  private static final String USAGE = "usage: Main --bootstrap host:port --topic name --guarantee at_least_once|exactly_once_v2"
      + " --state-dir dir --expect N [--app-id id] [--dc dc1] [--peers dc2[,dc3...]]";
  private static final List<String> REQUIRED = List.of("bootstrap", "topic", "guarantee", "state-dir", "expect");
  private static final Map<String, String> DEFAULTS = Map.of("dc", "dc1", "peers", "dc2", "app-id", "");
  private static final List<String> GUARANTEES = List.of(StreamsConfig.AT_LEAST_ONCE, StreamsConfig.EXACTLY_ONCE_V2);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> opts;
    try {
      opts = parseArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
      return;
    }
    String topic = opts.get("topic");
    String localDc = opts.get("dc");
    List<String> peers = List.of(opts.get("peers").split(","));
    List<String> dcs = new ArrayList<>();
    dcs.add(localDc);
    dcs.addAll(peers);
    String appId = opts.get("app-id").isEmpty() ? "concord-bench-kstreams-" + UUID.randomUUID() : opts.get("app-id");
    Progress progress = new Progress(System.out, Long.parseLong(opts.get("expect")));

    Map<String, String> sourceDcs = RecordParser.sourceDcs(topic, localDc, peers);
    Topology topology = new Topology();
    List<String> sources = new ArrayList<>();
    for (String input : sourceDcs.keySet()) {
      String name = "source-" + input;
      topology.addSource(name, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), input);
      sources.add(name);
    }
    topology.addProcessor("lww", () -> new LwwProcessor(localDc, dcs, sourceDcs, progress), sources.toArray(new String[0]));
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(LwwProcessor.STORE), Serdes.String(), Serdes.ByteArray()), "lww");
    topology.addSink(LwwProcessor.MERGED_SINK, topic + ".merged", Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), "lww");
    topology.addSink(LwwProcessor.DLQ_SINK, topic + ".dlq", Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), "lww");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, opts.get("bootstrap"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, opts.get("guarantee"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, opts.get("state-dir"));

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      progress.event("state", "state", now.name());
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
    });
    streams.setUncaughtExceptionHandler(e -> {
      progress.event("error", "message", String.valueOf(e));
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "progress");
      t.setDaemon(true);
      return t;
    });
    long[] reported = { -1 };
    reporter.scheduleAtFixedRate(() -> {
      long n = progress.processed.get();
      if (n != reported[0]) progress.line("{\"event\":\"progress\",\"processed\":" + n + "}");
      reported[0] = n;
    }, 100, 100, TimeUnit.MILLISECONDS);
    // SIGTERM: close cleanly (commits, flushes the producer, closes RocksDB), as an operator stops the app.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      progress.event("closed");
    }, "shutdown"));
    streams.start();
    stopped.await();
    // After a SIGTERM the JVM is already exiting (the hook is running); calling exit there would block.
    if (streams.state() == KafkaStreams.State.ERROR) System.exit(1);
  }

  /** `--name value` pairs; every problem at once: unknown options, missing values, bad values. */
  static Map<String, String> parseArgs(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>(DEFAULTS);
    List<String> problems = new ArrayList<>();
    List<String> missingValue = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String name = a.startsWith("--") ? a.substring(2) : null;
      boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
      if (name == null) {
        problems.add("unexpected argument \"" + a + "\"");
      } else if (!REQUIRED.contains(name) && !DEFAULTS.containsKey(name)) {
        problems.add("unknown option \"" + a + "\"");
        if (hasValue) i++;
      } else if (!hasValue) {
        problems.add("\"--" + name + "\" needs a value");
        missingValue.add(name);
      } else {
        opts.put(name, args[++i]);
      }
    }
    for (String r : REQUIRED) if (!opts.containsKey(r) && !missingValue.contains(r)) problems.add("\"--" + r + "\" is required");
    String g = opts.get("guarantee");
    if (g != null && !GUARANTEES.contains(g)) problems.add("\"--guarantee\" must be at_least_once or exactly_once_v2, got \"" + g + "\"");
    String expect = opts.get("expect");
    if (expect != null && !expect.matches("[1-9]\\d{0,17}")) problems.add("\"--expect\" must be a positive integer, got \"" + expect + "\"");
    for (String dc : Arrays.asList((opts.get("dc") + "," + opts.get("peers")).split(",", -1))) {
      if (!dc.matches("[A-Za-z0-9_]{1,64}")) problems.add("DC ids (\"--dc\", \"--peers\") must be 1-64 of A-Z a-z 0-9 _, got \"" + dc + "\"");
    }
    if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
    return opts;
  }
}
