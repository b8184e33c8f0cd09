package main

import "flag"

// storeFlags are the flags every command that opens the store takes:
// --data for the embedded database (and the command's local state, such as
// resume cursors) and --db for PostgreSQL.
type storeFlags struct {
	data, url *string
}

// addStoreFlags registers --data and --db on fs.
func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		data: fs.String("data", "./custodian-data", "directory of the embedded database (and of local state such as resume cursors)"),
		url:  fs.String("db", "", "database URL (postgres://…) instead of the embedded database in --data"),
	}
}
