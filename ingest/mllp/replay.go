package mllp

import (
	"context"
	"encoding/base64"
	"errors"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

// ReplayLimit is the most dead letters one Replay goes through.
const ReplayLimit = 1000

// ReplayResult says what a replay did.
type ReplayResult struct {
	// Replayed dead letters were stored this time (or found stored) and
	// deleted; their history keeps them.
	Replayed int
	// Failed are still refused, for the reasons listed (one per failure).
	Failed  int
	Reasons []string
}

// Replay hands the dead letters kept in st (up to ReplayLimit, oldest
// first) to h again, as `custodian feed replay` and the workbench do after
// a mapping table or the master patient index is fixed. A message now
// stored has its dead letter deleted; one still refused stays.
func Replay(ctx context.Context, st *store.Store, h Handler, actor *custodian.Actor) (*ReplayResult, error) {
	if actor != nil {
		ctx = custodian.NewContextWithActor(ctx, actor)
	}
	q, err := st.ParseQueryString("Basic", "code="+query(SystemFeed, CodeDeadLetter)+"&_sort=_lastUpdated")
	if err != nil {
		return nil, err
	}
	q.Count = ReplayLimit
	page, err := st.SearchWithIncludes(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &ReplayResult{}
	for _, r := range page.Resources {
		res, err := store.Decode(r.Body)
		if err != nil {
			return out, err
		}
		raw, ok := extensionMessage(res)
		if !ok {
			out.Failed++
			out.Reasons = append(out.Reasons, r.ID+": the dead letter holds no message")
			continue
		}
		m, err := hl7v2.Parse(raw)
		if err == nil {
			err = h.Handle(ctx, m, raw)
		}
		if err != nil && !errors.Is(err, ErrDuplicate) {
			if !messageFault(err) {
				return out, err // the store failed: stop, nothing is lost
			}
			out.Failed++
			out.Reasons = append(out.Reasons, r.ID+": "+custodian.ErrorMessage(err))
			continue
		}
		if _, err := st.Delete(ctx, "Basic", r.ID, store.WriteOptions{IfMatch: r.VersionID}); err != nil {
			return out, err
		}
		out.Replayed++
	}
	return out, nil
}

func extensionMessage(res map[string]any) ([]byte, bool) {
	exts, _ := res["extension"].([]any)
	for _, e := range exts {
		m, _ := e.(map[string]any)
		if m["url"] == ExtMessage {
			s, _ := m["valueBase64Binary"].(string)
			b, err := base64.StdEncoding.DecodeString(s)
			return b, err == nil && len(b) > 0
		}
	}
	return nil, false
}
