-- Custom search parameters (SearchParameter resources stored in the
-- record) that custodian reindex has indexed every resource by: the
-- SearchParameter's id and the version the index was built with. A
-- parameter can be searched only while its current version is the one
-- recorded here; until then writes index it but searches do not know it.
CREATE TABLE search_param_active (
  id      TEXT    PRIMARY KEY,
  version INTEGER NOT NULL,
  ts      INTEGER NOT NULL -- when the reindex that activated it ended, unix ms
);
