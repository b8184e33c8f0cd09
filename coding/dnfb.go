package coding

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// DNFBList keeps, in memory, what the DNFB queue is made of: every
// finished inpatient stay with a discharge date and the status of its
// coding Claim. Seed reads it once (in the background at start) and the
// watcher keeps it current, so Queue.DNFB answers without reading every
// stay and Claim of the record on each call. Each stay and Claim also
// keeps whether it carries a sensitive label: for a user who may not see
// those, the ones concerned are looked up through the store as that user,
// so the list shows exactly what a search would.
type DNFBList struct {
	mu     sync.Mutex
	stays  map[string]dnfbStay  // encounter id → the stay
	claims map[string]dnfbClaim // encounter id → its coding Claim
	// seeded is set once Seed has read the store; until then the watcher
	// keeps writes in backlog for Seed to apply. err is why Seed failed.
	seeded  bool
	backlog []*store.Resource
	err     error
}

type dnfbStay struct {
	patient              string
	admitted, discharged time.Time
	sensitive            bool
}

type dnfbClaim struct {
	status    string
	sensitive bool
}

// NewDNFBList returns an empty list waiting for Seed.
func NewDNFBList() *DNFBList {
	return &DNFBList{stays: map[string]dnfbStay{}, claims: map[string]dnfbClaim{}}
}

// bulkReader reads a whole type a page at a time, recorded once in the
// audit trail (*store.Store).
type bulkReader interface {
	ParseQueryString(typ, criteria string) (*store.Query, error)
	ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error)
	RecordBulkRead(ctx context.Context, typ, why string) error
}

// Seed reads the finished inpatient stays and the coding Claims from st
// as Custodian itself; writes seen by the watcher meanwhile are applied
// after. Call it once, with the watcher registered.
func (l *DNFBList) Seed(ctx context.Context, st bulkReader) error {
	ctx = custodian.NewContextWithActor(ctx, custodian.SystemActor())
	stays, claims := map[string]dnfbStay{}, map[string]dnfbClaim{}
	err := readAll(ctx, st, "Encounter", "class=IMP&status=finished", func(r *store.Resource) {
		if s, ok := decodeStay(r.Body); ok {
			stays[r.ID] = s
		}
	})
	if err == nil {
		err = readAll(ctx, st, "Claim", "", func(r *store.Resource) {
			if enc, ok := strings.CutPrefix(r.ID, claimPrefix); ok {
				if c, ok := decodeClaim(r.Body); ok {
					claims[enc] = c
				}
			}
		})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.err, l.backlog = err, nil
		return err
	}
	l.stays, l.claims, l.seeded = stays, claims, true
	l.applyLocked(l.backlog)
	l.backlog = nil
	return nil
}

// readAll calls fn for every current resource of typ matching criteria.
func readAll(ctx context.Context, st bulkReader, typ, criteria string, fn func(*store.Resource)) error {
	q, err := st.ParseQueryString(typ, criteria)
	if err != nil {
		return err
	}
	if err := st.RecordBulkRead(ctx, typ, "coding queue (DNFB)"); err != nil {
		return err
	}
	var after int64
	for {
		rs, next, err := st.ExportPage(ctx, q, store.ExportFilter{After: after, Limit: 1000, MaxBytes: 8 << 20})
		if err != nil {
			return err
		}
		for _, r := range rs {
			fn(r)
		}
		if next == 0 {
			return nil
		}
		after = next
	}
}

// Watcher returns the store.Watcher that keeps the list current. It does
// no I/O.
func (l *DNFBList) Watcher() store.Watcher {
	return func(_ context.Context, versions []*store.Resource) {
		var mine []*store.Resource
		for _, v := range versions {
			if v.Type == "Encounter" || v.Type == "Claim" && strings.HasPrefix(v.ID, claimPrefix) {
				mine = append(mine, v)
			}
		}
		if len(mine) == 0 {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case l.err != nil:
		case !l.seeded:
			l.backlog = append(l.backlog, mine...)
		default:
			l.applyLocked(mine)
		}
	}
}

func (l *DNFBList) applyLocked(versions []*store.Resource) {
	for _, v := range versions {
		switch v.Type {
		case "Encounter":
			s, ok := dnfbStay{}, false
			if !v.Deleted {
				s, ok = decodeStay(v.Body)
			}
			if ok {
				l.stays[v.ID] = s
			} else {
				delete(l.stays, v.ID)
			}
		case "Claim":
			enc := strings.TrimPrefix(v.ID, claimPrefix)
			c, ok := dnfbClaim{}, false
			if !v.Deleted {
				c, ok = decodeClaim(v.Body)
			}
			if ok {
				l.claims[enc] = c
			} else {
				delete(l.claims, enc)
			}
		}
	}
}

// decodeStay reads a finished inpatient encounter with a discharge date;
// ok is false for any other encounter.
func decodeStay(body []byte) (dnfbStay, bool) {
	var e encounterJSON
	if json.Unmarshal(body, &e) != nil || e.Class.Code != "IMP" || e.Status != "finished" {
		return dnfbStay{}, false
	}
	end, err := parseTime(e.Period.End)
	if err != nil || end.IsZero() {
		return dnfbStay{}, false // not discharged
	}
	start, _ := parseTime(e.Period.Start)
	return dnfbStay{patient: e.Subject.Reference, admitted: start, discharged: end, sensitive: sensitive(body)}, true
}

func decodeClaim(body []byte) (dnfbClaim, bool) {
	var c struct{ Status string }
	if json.Unmarshal(body, &c) != nil {
		return dnfbClaim{}, false
	}
	return dnfbClaim{status: c.Status, sensitive: sensitive(body)}, true
}

// sensitive says whether a stored body carries one of the store's
// sensitive security labels (an unreadable one is taken as sensitive).
func sensitive(body []byte) bool {
	if !bytes.Contains(body, []byte(`"security"`)) {
		return false
	}
	var r struct {
		Meta struct {
			Security []struct{ System, Code string }
		}
	}
	if json.Unmarshal(body, &r) != nil {
		return true
	}
	for _, s := range r.Meta.Security {
		if store.SensitiveLabels[s.System][s.Code] {
			return true
		}
	}
	return false
}

// items is the DNFB as the actor of ctx sees it, from the kept list.
func (l *DNFBList) items(ctx context.Context, q *Queue) ([]DNFBItem, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "the request has no authenticated actor")
	}
	// The same authorisation a search of the stays and Claims has.
	if a.Kind != "system" && q.Store.Guard != nil {
		for _, typ := range []string{"Claim", "Encounter"} {
			if err := q.Store.Guard.Allow(a, typ, "search"); err != nil {
				return nil, err
			}
		}
	}
	seesAll := a.Kind == "system" || q.Store.Guard == nil || q.Store.Guard.SeesSensitive(a)
	type row struct {
		id    string
		s     dnfbStay
		c     dnfbClaim
		coded bool
	}
	var rows []row
	var hiddenStays, hiddenClaims []string
	l.mu.Lock()
	switch {
	case l.err != nil:
		l.mu.Unlock()
		return nil, custodian.Wrap(custodian.EUNAVAILABLE, l.err, "The coding queue could not be read; the server's log says why.")
	case !l.seeded:
		l.mu.Unlock()
		return nil, custodian.Errorf(custodian.EUNAVAILABLE, "The coding queue is still being read after the server started; try again in a minute.")
	}
	for id, s := range l.stays {
		c, coded := l.claims[id]
		rows = append(rows, row{id, s, c, coded})
		if !seesAll && s.sensitive {
			hiddenStays = append(hiddenStays, id)
		}
		if !seesAll && coded && c.sensitive {
			hiddenClaims = append(hiddenClaims, claimPrefix+id)
		}
	}
	l.mu.Unlock()
	// Sensitive stays and Claims count only if the store shows them to
	// this user (a broken glass opens a patient's).
	visStays, err := q.visible(ctx, "Encounter", hiddenStays)
	if err != nil {
		return nil, err
	}
	visClaims, err := q.visible(ctx, "Claim", hiddenClaims)
	if err != nil {
		return nil, err
	}
	now := q.Now()
	var out []DNFBItem
	for _, r := range rows {
		if !seesAll && r.s.sensitive && !visStays[r.id] {
			continue
		}
		status := ""
		if r.coded && (seesAll || !r.c.sensitive || visClaims[claimPrefix+r.id]) {
			status = r.c.status
		}
		if status == "active" {
			continue
		}
		it := DNFBItem{Encounter: "Encounter/" + r.id, Patient: r.s.patient, Admitted: r.s.admitted, Discharged: r.s.discharged,
			AgeDays: int(now.Sub(r.s.discharged).Hours() / 24), Status: StatusUncoded}
		if status == "draft" {
			it.Status = StatusDraft
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b DNFBItem) int {
		if c := a.Discharged.Compare(b.Discharged); c != 0 {
			return c
		}
		return strings.Compare(a.Encounter, b.Encounter)
	})
	return out, nil
}

// visible returns which of ids (of typ) the actor of ctx may see, by
// searching for them as that actor.
func (q *Queue) visible(ctx context.Context, typ string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		n := min(len(ids), 100)
		part := ids[:n]
		ids = ids[n:]
		if err := q.each(ctx, typ, "_id="+strings.Join(part, ",")+"&_count=100", func(r *store.Resource) error {
			out[r.ID] = true
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
