package measure

import (
	"context"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

type benchGuard struct{}

func (benchGuard) Allow(*custodian.Actor, string, string) error { return nil }
func (benchGuard) SeesSensitive(*custodian.Actor) bool          { return true }

func systemCtx() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}

func benchStore(tb testing.TB) (*sqldb.DB, *store.Store) {
	db := sqldbtest.Open(tb)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = benchGuard{}, db
	return db, st
}
