-- Search pages through the resources of a type in rid order (keyset
-- paging); without this index a page of an unfiltered or weakly filtered
-- search would sort every resource of the type.
CREATE INDEX resources_type_rid ON resources (type, rid);
