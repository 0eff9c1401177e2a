-- concord state store, version 1. Released migrations are never edited: a change is a new file.

-- Configured source topics (orders), numbered to keep entity keys short.
CREATE TABLE topics (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- One row per entity: its siblings (the latest version from each writer DC, encoded by
-- src/store/siblings-codec.ts) and the merged winner's stamp, kept for queries and verification.
-- `partition` is the entity's home partition: where its first version arrived. State moves between
-- instances by (topic_id, partition) when scaling out; merged output goes to the same partition number.
CREATE TABLE entities (
  topic_id        INTEGER NOT NULL REFERENCES topics (id),
  entity          TEXT    NOT NULL,
  partition       INTEGER NOT NULL,
  siblings        BLOB    NOT NULL,
  merged_dc       TEXT    NOT NULL,
  merged_ts       INTEGER NOT NULL,
  merged_counter  INTEGER NOT NULL,
  merged_event_id TEXT    NOT NULL,
  deleted         INTEGER NOT NULL,
  PRIMARY KEY (topic_id, entity)
) WITHOUT ROWID;

-- Next offset to consume per input topic-partition, committed with the state it produced.
CREATE TABLE offsets (
  topic       TEXT    NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

-- Records to produce (merged changes and dead letters), one row per committed batch (its records encoded by
-- src/store/outbox-codec.ts), written in the same transaction as the state and deleted once Kafka
-- acknowledged them: a crash between commit and produce delays output, never loses it. Sent in seq order,
-- so a repeat after a crash never leaves a stale value last.
CREATE TABLE outbox (
  seq     INTEGER PRIMARY KEY,
  count   INTEGER NOT NULL,
  records BLOB    NOT NULL
);
