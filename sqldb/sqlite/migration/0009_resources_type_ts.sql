-- _lastUpdated searches of a type (the dashboard's records received per
-- day, clients polling for changes) read a range of this index instead of
-- every resource of the type.
CREATE INDEX resources_type_ts ON resources (type, ts);
