-- concord state store, version 2: merge policies own the entity state. Released migrations are never edited.

-- The layout of the state a topic's policy keeps (`siblings` for lww, counter, max, min, union, dc-priority;
-- `fields` for lww-fields; `custom` for a user module). A topic cannot switch to a policy of another layout
-- while it has state. Version 1 knew only lww.
ALTER TABLE topics ADD COLUMN state_format TEXT NOT NULL DEFAULT 'siblings';

-- One row per entity: the policy's state, encoded by the policy (src/merge/), and, while the entity is
-- deleted by a delete, that delete's time: garbage collection purges the row once every DC's watermark is
-- `gcGraceMs` past it. `partition` is the entity's home partition, where its first version arrived: state
-- moves between instances by (topic_id, partition) when scaling out.
CREATE TABLE entity_state (
  topic_id   INTEGER NOT NULL REFERENCES topics (id),
  entity     TEXT    NOT NULL,
  partition  INTEGER NOT NULL,
  state      BLOB    NOT NULL,
  deleted_ts INTEGER,
  PRIMARY KEY (topic_id, entity)
) WITHOUT ROWID;

-- Version 1's siblings blob is the sibling state without its tombstone part, which reads as the greatest
-- delete among the siblings (src/merge/sibling-codec.ts).
INSERT INTO entity_state (topic_id, entity, partition, state, deleted_ts)
  SELECT topic_id, entity, partition, siblings, CASE WHEN deleted = 1 THEN merged_ts END FROM entities;
DROP TABLE entities;

CREATE INDEX entity_state_deleted ON entity_state (topic_id, deleted_ts) WHERE deleted_ts IS NOT NULL;

-- Per topic, writer DC and input partition: the greatest write time seen. Records of one DC reach every DC
-- in the same order per partition, so each DC computes the same watermark at the same record.
CREATE TABLE watermarks (
  topic_id  INTEGER NOT NULL REFERENCES topics (id),
  dc        TEXT    NOT NULL,
  partition INTEGER NOT NULL,
  ts        INTEGER NOT NULL,
  PRIMARY KEY (topic_id, dc, partition)
) WITHOUT ROWID;
