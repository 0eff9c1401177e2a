/*
 * The partitioner interop check (test/integration/writer.itest.ts): what partition Java's producer gives an
 * entity, against the writer SDK's entityPartition. Run with Java 17's source launcher on the lab's jars:
 *
 *   java -cp '.cache/kafka/libs/*' test/integration/java/Partitioner.java <bootstrap> <topic> <partitions>
 *
 * Reads entity ids from stdin, one per line, base64 (standard alphabet) of their UTF-8 bytes. For each it
 *   1. produces a record with key = the entity id and no partition: Java's default partitioner picks it;
 *   2. computes the README's formula for a DC-suffixed key, Utils.toPositive(Utils.murmur2(entity id)) % n,
 *      and produces the suffixed key `<entity id>-java` to that partition;
 * and prints one line per entity: <base64 entity id> TAB <partition of 1, as acknowledged> TAB <partition of 2>.
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

public class Partitioner {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: Partitioner <bootstrap> <topic> <partitions> < base64 entity ids");
      System.exit(2);
    }
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("acks", "all");
    List<byte[]> entities = new ArrayList<>();
    List<Future<RecordMetadata>> byDefault = new ArrayList<>();
    List<Future<RecordMetadata>> byFormula = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        byte[] entity = Base64.getDecoder().decode(line);
        entities.add(entity);
        byDefault.add(producer.send(new ProducerRecord<>(topic, entity, "probe".getBytes(StandardCharsets.UTF_8))));
        int partition = Utils.toPositive(Utils.murmur2(entity)) % partitions;
        byte[] key = (new String(entity, StandardCharsets.UTF_8) + "-java").getBytes(StandardCharsets.UTF_8);
        byFormula.add(producer.send(new ProducerRecord<>(topic, partition, key, "probe".getBytes(StandardCharsets.UTF_8))));
      }
      producer.flush();
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < entities.size(); i++) {
        out.append(Base64.getEncoder().encodeToString(entities.get(i))).append('\t')
            .append(byDefault.get(i).get().partition()).append('\t')
            .append(byFormula.get(i).get().partition()).append('\n');
      }
      System.out.print(out);
    }
  }
}
